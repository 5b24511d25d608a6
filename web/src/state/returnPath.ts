// Where to go after logging in: only paths of this app (same origin, relative).

/**
 * `from` when it is a same-origin relative path (`/invite/abc?x=1`), else
 * null. Refuses `//host`, `/\host` (browsers read both as another host),
 * schemes, and control characters.
 */
export function safeReturnPath(from: unknown): string | null {
  if (typeof from !== 'string' || from.length === 0 || from.length > 2048) return null;
  if (!from.startsWith('/') || from.startsWith('//') || from.startsWith('/\\')) return null;
  if (/[\u0000-\u001f\u007f\\]/.test(from)) return null;
  try {
    const url = new URL(from, 'http://papo.invalid');
    if (url.origin !== 'http://papo.invalid') return null;
    return url.pathname + url.search + url.hash;
  } catch {
    return null;
  }
}

let lastApp: string | null = null;

/** Notes the place in the app (`/app…`) being shown, for leaving the user settings back to it. */
export function rememberAppPath(path: string): void {
  if (path === '/app' || path.startsWith('/app/')) lastApp = path;
}

/** The last place in the app shown (`/app` before any). */
export function lastAppPath(): string {
  return lastApp ?? '/app';
}
