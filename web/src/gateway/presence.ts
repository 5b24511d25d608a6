// The presence the user chose (saved in their settings): choices, custom-status limits and
// expiry; the choice an older version kept per device; and the presences shown. No React.

import type { StorageLike } from '../api/client';
import type { Settings } from '../api/types';
import {
  PRESENCE_STATUSES,
  type CustomStatus,
  type Presence,
  type PresenceStatus,
  type PresenceUpdate,
} from './protocol';

export const CUSTOM_STATUS_MAX_CHARS = 128;
export const CUSTOM_STATUS_EMOJI_MAX_CHARS = 32;

export const CLEAR_AFTER_OPTIONS = ['never', '30m', '1h', '4h', 'today'] as const;
export type ClearAfter = (typeof CLEAR_AFTER_OPTIONS)[number];

const STORAGE_PREFIX = 'papo.presence.';

export function presenceStorageKey(userId: string): string {
  return STORAGE_PREFIX + userId;
}

/** Characters as the server counts them (Unicode scalar values, not UTF-16 units). */
export function charCount(text: string): number {
  return Array.from(text).length;
}

/** RFC 3339 in UTC without fractional seconds, e.g. 2025-01-01T12:30:00Z. */
export function toRfc3339(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** When a custom status set at `now` should be cleared; null = never. "today" = local midnight. */
export function expiresAtFor(clearAfter: ClearAfter, now: Date): string | null {
  const ms = now.getTime();
  switch (clearAfter) {
    case 'never':
      return null;
    case '30m':
      return toRfc3339(ms + 30 * 60_000);
    case '1h':
      return toRfc3339(ms + 60 * 60_000);
    case '4h':
      return toRfc3339(ms + 4 * 60 * 60_000);
    case 'today': {
      const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 0, 0, 0, 0);
      return toRfc3339(midnight.getTime());
    }
  }
}

/** epoch ms of expires_at, null when it never expires (or is unparsable). */
export function expiryOf(custom: CustomStatus | null | undefined): number | null {
  if (!custom?.expires_at) return null;
  const ms = Date.parse(custom.expires_at);
  return Number.isFinite(ms) ? ms : null;
}

/** The custom status, unless it has expired. */
export function activeCustomStatus(custom: CustomStatus | null | undefined, now: number): CustomStatus | null {
  if (!custom || !custom.text.trim()) return null;
  const expiry = expiryOf(custom);
  return expiry !== null && expiry <= now ? null : custom;
}

export interface CustomStatusDraft {
  text: string;
  emoji: string;
  clearAfter: ClearAfter;
}

export type CustomStatusErrors = Partial<Record<'text' | 'emoji', 'too_long' | 'required'>>;

export function validateCustomStatus(draft: CustomStatusDraft): CustomStatusErrors {
  const errors: CustomStatusErrors = {};
  const text = draft.text.trim();
  const emoji = draft.emoji.trim();
  if (charCount(text) > CUSTOM_STATUS_MAX_CHARS) errors.text = 'too_long';
  if (charCount(emoji) > CUSTOM_STATUS_EMOJI_MAX_CHARS) errors.emoji = 'too_long';
  if (!text && emoji) errors.text = 'required';
  return errors;
}

/** The custom status of a valid draft (null = clear it). */
export function customStatusFromDraft(draft: CustomStatusDraft, now: Date): CustomStatus | null {
  const text = draft.text.trim();
  if (!text) return null;
  const emoji = draft.emoji.trim();
  const expires = expiresAtFor(draft.clearAfter, now);
  return {
    text,
    ...(emoji ? { emoji } : {}),
    ...(expires ? { expires_at: expires } : {}),
  };
}

export const DEFAULT_PRESENCE: PresenceUpdate = { status: 'online', custom_status: null };

function isStatus(value: unknown): value is PresenceStatus {
  return typeof value === 'string' && (PRESENCE_STATUSES as readonly string[]).includes(value);
}

/** Parses a stored choice; drops an expired or malformed custom status. */
export function parsePresenceChoice(raw: string | null, now: number): PresenceUpdate | null {
  if (!raw) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const obj = value as Record<string, unknown>;
  if (!isStatus(obj.status)) return null;
  let custom: CustomStatus | null = null;
  const c = obj.custom_status;
  if (typeof c === 'object' && c !== null && typeof (c as Record<string, unknown>).text === 'string') {
    const rec = c as Record<string, unknown>;
    const text = (rec.text as string).trim();
    const emoji = typeof rec.emoji === 'string' ? rec.emoji.trim() : '';
    const expires = typeof rec.expires_at === 'string' ? rec.expires_at : null;
    if (text && charCount(text) <= CUSTOM_STATUS_MAX_CHARS && charCount(emoji) <= CUSTOM_STATUS_EMOJI_MAX_CHARS) {
      custom = activeCustomStatus(
        { text, ...(emoji ? { emoji } : {}), ...(expires ? { expires_at: expires } : {}) },
        now,
      );
    }
  }
  return { status: obj.status, custom_status: custom };
}

export function loadPresenceChoice(storage: StorageLike | null, userId: string, now: number): PresenceUpdate | null {
  try {
    return parsePresenceChoice(storage?.getItem(presenceStorageKey(userId)) ?? null, now);
  } catch {
    return null;
  }
}

/**
 * The choice an older version kept on this device, removed as it is read: it is moved into
 * the user's settings once, then the settings are the only copy.
 */
export function takeStoredChoice(storage: StorageLike | null, userId: string, now: number): PresenceUpdate | null {
  const choice = loadPresenceChoice(storage, userId, now);
  try {
    storage?.removeItem(presenceStorageKey(userId));
  } catch {
    /* unavailable: nothing to move either */
  }
  return choice;
}

/** The presence saved in `settings`, an expired custom status left out. */
export function choiceOf(settings: Settings | null | undefined, now: number): PresenceUpdate {
  if (!settings) return DEFAULT_PRESENCE;
  return {
    status: isStatus(settings.status) ? settings.status : 'online',
    custom_status: activeCustomStatus(settings.custom_status, now),
  };
}

/** A presence as the app keeps it (an absent custom status is `null`). */
export function normalizePresence(presence: Presence): Presence {
  return { user_id: presence.user_id, status: presence.status, custom_status: presence.custom_status ?? null };
}

/**
 * The presences shown, by user id, from a full list (`ready`, or `resumed`: presence changes are
 * not replayed, so the list replaces what was known before the socket dropped).
 */
export function presenceMap(list: readonly Presence[]): Record<string, Presence> {
  const map: Record<string, Presence> = {};
  for (const p of list) map[p.user_id] = normalizePresence(p);
  return map;
}
