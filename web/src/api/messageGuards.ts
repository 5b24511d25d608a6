// Shape checks for message and read-state payloads (REST answers and gateway
// events are untrusted JSON): malformed ones are dropped, optional fields are
// filled so that the rest of the app can rely on them.

import { isPublicUser } from './guards';
import type { Message, PublicUser, Reaction, ReadState, ReferencedMessage } from './types';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

const nullableString = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function isMessage(value: unknown): value is Message {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.channel_id === 'string' &&
    typeof value.content === 'string' &&
    isPublicUser(value.author)
  );
}

export function normalizeUser(user: PublicUser): PublicUser {
  return {
    id: user.id,
    username: user.username,
    display_name: user.display_name ?? null,
    bio: user.bio ?? null,
    pronouns: user.pronouns ?? null,
    accent_color: typeof user.accent_color === 'number' ? user.accent_color : null,
    avatar: user.avatar ?? null,
    banner: user.banner ?? null,
    created_at: typeof user.created_at === 'string' ? user.created_at : '',
  };
}

function isReaction(value: unknown): value is Reaction {
  return isRecord(value) && typeof value.emoji === 'string' && typeof value.count === 'number';
}

function referenced(value: unknown): ReferencedMessage | null {
  if (!isRecord(value) || typeof value.id !== 'string' || !isPublicUser(value.author)) return null;
  return {
    id: value.id,
    author: normalizeUser(value.author),
    content: typeof value.content === 'string' ? value.content : '',
  };
}

/**
 * A message with every field filled. `reactions` stays absent when the payload
 * has none (gateway events): the store then keeps the reactions it knows.
 */
export function normalizeMessage(message: Message): Message {
  const raw = message as unknown as Record<string, unknown>;
  const out: Message = {
    id: message.id,
    channel_id: message.channel_id,
    server_id: typeof message.server_id === 'string' ? message.server_id : '',
    author: normalizeUser(message.author),
    content: message.content,
    nonce: nullableString(raw.nonce),
    created_at: typeof message.created_at === 'string' ? message.created_at : '',
    edited_at: nullableString(raw.edited_at),
    reply_to: nullableString(raw.reply_to),
    referenced_message: referenced(raw.referenced_message),
    mentions: strings(raw.mentions),
    mention_roles: strings(raw.mention_roles),
    mention_everyone: raw.mention_everyone === true,
    pinned: raw.pinned === true,
  };
  if (Array.isArray(raw.reactions)) {
    out.reactions = raw.reactions
      .filter(isReaction)
      .map((r) => ({ emoji: r.emoji, count: Math.max(0, Math.floor(r.count)), me: r.me === true }))
      .filter((r) => r.count > 0);
  }
  return out;
}

/** The well-formed messages of a list answer, normalized. */
export function messagesFrom(value: unknown): Message[] {
  return Array.isArray(value) ? value.filter(isMessage).map(normalizeMessage) : [];
}

export function isReadState(value: unknown): value is ReadState {
  return (
    isRecord(value) &&
    typeof value.channel_id === 'string' &&
    typeof value.last_read_id === 'string' &&
    (value.mention_count === undefined || typeof value.mention_count === 'number')
  );
}

export function normalizeReadState(state: ReadState): ReadState {
  const count = typeof state.mention_count === 'number' && Number.isFinite(state.mention_count) ? state.mention_count : 0;
  return { channel_id: state.channel_id, last_read_id: state.last_read_id, mention_count: Math.max(0, Math.floor(count)) };
}

/** The well-formed read states of `ready.read_states` or `GET /users/@me/read-states`. */
export function readStatesFrom(value: unknown): ReadState[] {
  return Array.isArray(value) ? value.filter(isReadState).map(normalizeReadState) : [];
}

// ---------- event payloads ----------

export interface MessageDeletedEvent {
  id: string;
  channel_id: string;
  server_id: string;
}

export interface MessagesBulkDeletedEvent {
  ids: string[];
  channel_id: string;
  server_id: string;
}

export interface ReactionEvent {
  channel_id: string;
  server_id: string;
  message_id: string;
  user_id: string;
  emoji: string;
}

export interface TypingStartedEvent {
  channel_id: string;
  server_id: string;
  user_id: string;
  expires_at_ms: number | null;
}

export interface PinsUpdatedEvent {
  channel_id: string;
  server_id: string;
}

const serverIdOf = (d: Record<string, unknown>) => (typeof d.server_id === 'string' ? d.server_id : '');

export function parseMessageDeleted(d: unknown): MessageDeletedEvent | null {
  if (!isRecord(d) || typeof d.id !== 'string' || typeof d.channel_id !== 'string') return null;
  return { id: d.id, channel_id: d.channel_id, server_id: serverIdOf(d) };
}

export function parseBulkDeleted(d: unknown): MessagesBulkDeletedEvent | null {
  if (!isRecord(d) || !Array.isArray(d.ids) || typeof d.channel_id !== 'string') return null;
  return { ids: strings(d.ids), channel_id: d.channel_id, server_id: serverIdOf(d) };
}

export function parseReactionEvent(d: unknown): ReactionEvent | null {
  if (
    !isRecord(d) ||
    typeof d.channel_id !== 'string' ||
    typeof d.message_id !== 'string' ||
    typeof d.user_id !== 'string' ||
    typeof d.emoji !== 'string' ||
    d.emoji === ''
  ) {
    return null;
  }
  return { channel_id: d.channel_id, server_id: serverIdOf(d), message_id: d.message_id, user_id: d.user_id, emoji: d.emoji };
}

export function parseTypingStarted(d: unknown): TypingStartedEvent | null {
  if (!isRecord(d) || typeof d.channel_id !== 'string' || typeof d.user_id !== 'string') return null;
  return {
    channel_id: d.channel_id,
    server_id: serverIdOf(d),
    user_id: d.user_id,
    expires_at_ms: typeof d.expires_at_ms === 'number' && Number.isFinite(d.expires_at_ms) ? d.expires_at_ms : null,
  };
}

export function parsePinsUpdated(d: unknown): PinsUpdatedEvent | null {
  if (!isRecord(d) || typeof d.channel_id !== 'string') return null;
  return { channel_id: d.channel_id, server_id: serverIdOf(d) };
}
