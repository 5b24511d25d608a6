import type { Locale } from '../api/types';

export const SUPPORTED_LOCALES: readonly Locale[] = ['en', 'pt-BR'];
export const DEFAULT_LOCALE: Locale = 'en';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

/** Maps one BCP 47 tag to a supported locale: `pt*` → pt-BR, `en*` → en. */
export function matchLocale(tag: string): Locale | null {
  const lower = tag.trim().toLowerCase();
  if (lower === 'pt' || lower.startsWith('pt-') || lower.startsWith('pt_')) return 'pt-BR';
  if (lower === 'en' || lower.startsWith('en-') || lower.startsWith('en_')) return 'en';
  return null;
}

/**
 * The UI language: the saved `settings.locale` when set, otherwise the first
 * of the browser's preferred languages that we support, otherwise English.
 */
export function pickLanguage(
  saved: string | null | undefined,
  browserLanguages: readonly string[] | null | undefined,
): Locale {
  if (isLocale(saved)) return saved;
  for (const tag of browserLanguages ?? []) {
    const match = matchLocale(tag);
    if (match) return match;
  }
  return DEFAULT_LOCALE;
}

/** navigator.languages, falling back to navigator.language. */
export function browserLanguages(): readonly string[] {
  if (typeof navigator === 'undefined') return [];
  if (Array.isArray(navigator.languages) && navigator.languages.length > 0) {
    return navigator.languages;
  }
  return navigator.language ? [navigator.language] : [];
}
