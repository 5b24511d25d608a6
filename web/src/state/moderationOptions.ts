// Choices of the moderation dialogs. Pure, no React.

/** Timeout lengths (seconds) and their label keys under `members.timeout.durations`. */
export const TIMEOUT_OPTIONS: readonly { secs: number; key: string }[] = [
  { secs: 60, key: '60s' },
  { secs: 5 * 60, key: '5m' },
  { secs: 10 * 60, key: '10m' },
  { secs: 60 * 60, key: '1h' },
  { secs: 24 * 60 * 60, key: '1d' },
  { secs: 7 * 24 * 60 * 60, key: '1w' },
];

/** "Delete messages from" choices of a ban (seconds; at most 7 days). */
export const BAN_DELETE_OPTIONS: readonly { secs: number; key: string }[] = [
  { secs: 0, key: 'none' },
  { secs: 60 * 60, key: '1h' },
  { secs: 24 * 60 * 60, key: '24h' },
  { secs: 7 * 24 * 60 * 60, key: '7d' },
];

/** `timeout_until` for a timeout of `secs` starting at `now` (RFC 3339, whole seconds, UTC). */
export function timeoutUntil(now: number, secs: number): string {
  return new Date(Math.floor(now / 1000) * 1000 + secs * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Nicknames: at most 32 characters (Unicode scalar values, as the server counts). */
export const NICKNAME_MAX = 32;

/** The PATCH value of a nickname input: trimmed, empty = null (clears it). */
export function nicknameValue(input: string): string | null {
  const text = input.trim();
  return text ? text : null;
}
