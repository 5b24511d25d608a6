// Invite links and the choices of the invite dialog. Pure, no React.

import type { Invite } from '../api/types';

const CODE = /^[A-Za-z0-9_-]{2,64}$/;

/**
 * The code of a pasted invite: a bare code (`aB3xY9`), or a link to
 * `/invite/CODE` (`https://papo.example/invite/aB3xY9`, with or without the
 * scheme). Null when the text is neither.
 */
export function parseInviteCode(input: string): string | null {
  const text = input.trim();
  if (!text) return null;
  if (CODE.test(text)) return text;
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  const match = /^\/invite\/([^/]+)\/?$/.exec(url.pathname);
  const code = match?.[1] ? decodeURIComponent(match[1]) : null;
  return code && CODE.test(code) ? code : null;
}

/** The web app's path of an invite. */
export const invitePath = (code: string) => `/invite/${encodeURIComponent(code)}`;

/** The full link to share: `${origin}/invite/${code}`. */
export const inviteUrl = (origin: string, code: string) => `${origin.replace(/\/+$/, '')}${invitePath(code)}`;

/** "Expire after" choices (seconds; 0 = never) and their label keys under `invites.expiry`. */
export const INVITE_EXPIRY_OPTIONS: readonly { secs: number; key: string }[] = [
  { secs: 30 * 60, key: '30m' },
  { secs: 60 * 60, key: '1h' },
  { secs: 24 * 60 * 60, key: '1d' },
  { secs: 7 * 24 * 60 * 60, key: '7d' },
  { secs: 0, key: 'never' },
];
export const DEFAULT_INVITE_EXPIRY_SECS = 7 * 24 * 60 * 60;

/** "Max number of uses" choices (0 = unlimited). */
export const INVITE_MAX_USES_OPTIONS: readonly number[] = [0, 1, 5, 10, 25, 100];

/** Error codes of `GET /invites/{code}` and `POST …/accept` with their own message. */
export const INVITE_ERROR_CODES = ['not_found', 'invite_expired', 'invite_used_up', 'invite_revoked', 'banned'] as const;
export type InviteErrorCode = (typeof INVITE_ERROR_CODES)[number];

export function inviteErrorCode(code: string | null | undefined): InviteErrorCode | null {
  return (INVITE_ERROR_CODES as readonly string[]).includes(code ?? '') ? (code as InviteErrorCode) : null;
}

/** Uses left (null = unlimited). */
export function usesLeft(invite: Pick<Invite, 'max_uses' | 'uses'>): number | null {
  return invite.max_uses > 0 ? Math.max(0, invite.max_uses - invite.uses) : null;
}
