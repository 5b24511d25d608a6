import type { Theme } from './api/types';

export type ResolvedTheme = 'dark' | 'light';

export function resolveTheme(theme: Theme, prefersLight: boolean): ResolvedTheme {
  if (theme === 'system') return prefersLight ? 'light' : 'dark';
  return theme;
}

const LIGHT_QUERY = '(prefers-color-scheme: light)';
let current: Theme = 'dark';
let mediaListenerInstalled = false;

function prefersLight(): boolean {
  return typeof matchMedia === 'function' && matchMedia(LIGHT_QUERY).matches;
}

function paint(): void {
  if (typeof document === 'undefined') return;
  const root = document.documentElement;
  root.dataset.theme = resolveTheme(current, prefersLight());
  root.dataset.themePreference = current;
}

/** Applies a theme preference via `<html data-theme="dark|light">`. */
export function applyTheme(theme: Theme): void {
  current = theme;
  if (!mediaListenerInstalled && typeof matchMedia === 'function') {
    mediaListenerInstalled = true;
    matchMedia(LIGHT_QUERY).addEventListener('change', () => {
      if (current === 'system') paint();
    });
  }
  paint();
}
