// Who is typing where, as pure data + reducers (no React): a `typing.started`
// event shows the user for 8 s; their message (or a newer typing event) ends
// or extends it.

import { parseTypingStarted } from '../api/messageGuards';

/** How long one `typing.started` shows "X is typing…". */
export const TYPING_SHOW_MS = 8_000;
/** We send `typing_start` at most this often while the user types. */
export const TYPING_SEND_INTERVAL_MS = 8_000;

/** channel id → user id → epoch ms until which they count as typing. */
export type TypingState = Readonly<Record<string, Readonly<Record<string, number>>>>;

export type TypingAction =
  | { type: 'typing.started'; channelId: string; userId: string; until: number }
  /** Their message arrived: they stopped. */
  | { type: 'typing.stopped'; channelId: string; userId: string }
  /** Drop what has expired by `now`. */
  | { type: 'typing.pruned'; now: number }
  | { type: 'typing.reset' };

export function typingReducer(state: TypingState, action: TypingAction): TypingState {
  switch (action.type) {
    case 'typing.started': {
      const channel = state[action.channelId] ?? {};
      if ((channel[action.userId] ?? 0) >= action.until) return state;
      return { ...state, [action.channelId]: { ...channel, [action.userId]: action.until } };
    }
    case 'typing.stopped': {
      const channel = state[action.channelId];
      if (!channel || !(action.userId in channel)) return state;
      const rest = { ...channel };
      delete rest[action.userId];
      return { ...state, [action.channelId]: rest };
    }
    case 'typing.pruned': {
      let changed = false;
      const next: Record<string, Record<string, number>> = {};
      for (const [channelId, users] of Object.entries(state)) {
        const kept: Record<string, number> = {};
        for (const [userId, until] of Object.entries(users)) {
          if (until > action.now) kept[userId] = until;
          else changed = true;
        }
        if (Object.keys(kept).length > 0) next[channelId] = kept;
        else changed = true;
      }
      return changed ? next : state;
    }
    case 'typing.reset':
      return Object.keys(state).length === 0 ? state : {};
    default:
      return state;
  }
}

/**
 * The action for a `typing.started` event received at `now` (shown 8 s from
 * our own clock, so that a skewed server clock does not matter); null for
 * malformed events and for our own typing (another tab of ours).
 */
export function typingActionForEvent(t: string, d: unknown, meId: string | null, now: number): TypingAction | null {
  if (t !== 'typing.started') return null;
  const e = parseTypingStarted(d);
  if (!e || e.user_id === meId) return null;
  return { type: 'typing.started', channelId: e.channel_id, userId: e.user_id, until: now + TYPING_SHOW_MS };
}

/** The users typing in a channel at `now`, in a stable order (earliest to stop first). */
export function typingUsers(state: TypingState, channelId: string, now: number, meId: string | null): string[] {
  const users = state[channelId];
  if (!users) return [];
  return Object.entries(users)
    .filter(([userId, until]) => until > now && userId !== meId)
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    .map(([userId]) => userId);
}

/** When the next typing entry of the channel expires (null = nobody typing). */
export function nextTypingExpiry(state: TypingState, channelId: string, now: number): number | null {
  const users = state[channelId];
  if (!users) return null;
  let next: number | null = null;
  for (const until of Object.values(users)) {
    if (until > now && (next === null || until < next)) next = until;
  }
  return next;
}

/** Throttle of our own `typing_start`: whether to send one now. */
export function shouldSendTyping(lastSentAt: number | null, now: number, content: string): boolean {
  if (content.trim() === '') return false;
  return lastSentAt === null || now - lastSentAt >= TYPING_SEND_INTERVAL_MS;
}
