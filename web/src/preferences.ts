import type { Locale, Theme } from './api/types';
import { isLocale } from './i18n/language';

// Device-local copies of the last known preferences, so logged-out pages and
// the first paint after a reload use the right language and theme.
const LOCALE_KEY = 'papo.locale';
const THEME_KEY = 'papo.theme';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function read(key: string): string | null {
  try {
    return storage()?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    const s = storage();
    if (!s) return;
    if (value === null) s.removeItem(key);
    else s.setItem(key, value);
  } catch {
    /* ignore */
  }
}

export function readCachedLocale(): Locale | null {
  const value = read(LOCALE_KEY);
  return isLocale(value) ? value : null;
}

export function cacheLocale(locale: Locale | null): void {
  write(LOCALE_KEY, locale);
}

export function isTheme(value: unknown): value is Theme {
  return value === 'dark' || value === 'light' || value === 'system';
}

export function readCachedTheme(): Theme | null {
  const value = read(THEME_KEY);
  return isTheme(value) ? value : null;
}

export function cacheTheme(theme: Theme): void {
  write(THEME_KEY, theme);
}
