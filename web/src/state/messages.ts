// The loaded messages of each channel, as pure data + reducers (no React).
// Per channel a window of consecutive messages sorted by id, plus our own
// messages that are not confirmed yet (keyed by nonce). Kept live by the
// message.* / reaction.* gateway events and by the answers of our REST calls;
// everything is an upsert by id, so applying a change twice is harmless.

import {
  isMessage,
  normalizeMessage,
  parseBulkDeleted,
  parseMessageDeleted,
  parseReactionEvent,
} from '../api/messageGuards';
import type { Message, PublicUser, Reaction, ReferencedMessage } from '../api/types';
import { compareIds } from './servers';

/** The most messages kept per channel; the far end is dropped past it. */
export const MAX_WINDOW = 300;
/** Messages of one author closer than this share a header. */
export const GROUP_WINDOW_MS = 7 * 60_000;

export interface SendError {
  status: number;
  code: string;
  message: string;
  /** seconds (slowmode / rate_limited) */
  retryAfter: number | null;
  /** The refused fields' codes (validation_failed), when there are any. */
  fields?: Record<string, { code: string }>;
}

/** A message of ours the server has not confirmed yet. */
export interface PendingMessage {
  nonce: string;
  channel_id: string;
  server_id: string;
  author: PublicUser;
  content: string;
  reply_to: string | null;
  referenced_message: ReferencedMessage | null;
  created_at: string;
  status: 'pending' | 'failed';
  error: SendError | null;
}

export interface ChannelMessages {
  /** Consecutive messages, oldest first. */
  messages: Message[];
  /** Ours, unconfirmed, in send order (shown after `messages`). */
  pending: PendingMessage[];
  /** Older messages exist before the window. */
  hasMoreBefore: boolean;
  /** The window reaches the newest message: new ones are appended live. */
  atPresent: boolean;
}

/** channel id → window; a channel never opened has none. */
export type MessagesState = Readonly<Record<string, ChannelMessages>>;

/** `around`: a page centred on a message (jumping to an old one) replaces the window. */
export type LoadMode = 'latest' | 'before' | 'after' | 'around';

export type MessagesAction =
  /** A page of `GET /channels/{id}/messages` (newest first, as the server sends it). */
  /** `anchor`: for `around`, the message the page was asked around. */
  | { type: 'messages.loaded'; channelId: string; messages: Message[]; mode: LoadMode; limit: number; anchor?: string }
  /** `message.created`, or the answer of our own send. */
  | { type: 'message.created'; message: Message; meId: string | null }
  /** `message.updated` (edits, pins), or the answer of our own edit. */
  | { type: 'message.updated'; message: Message }
  | { type: 'message.deleted'; channelId: string; ids: string[] }
  | { type: 'reaction.added' | 'reaction.removed'; channelId: string; messageId: string; userId: string; emoji: string; meId: string | null }
  /** Our own pin / unpin, before the event confirms it. */
  | { type: 'message.pinned'; channelId: string; messageId: string; pinned: boolean }
  | { type: 'pending.added'; pending: PendingMessage }
  | { type: 'pending.failed'; channelId: string; nonce: string; error: SendError }
  | { type: 'pending.retrying'; channelId: string; nonce: string }
  | { type: 'pending.removed'; channelId: string; nonce: string }
  /** Forget the loaded messages of every channel but `keep` (kept: unconfirmed ones). */
  | { type: 'messages.stale'; keep: string | null }
  /** The channel is gone (deleted, or hidden from us). */
  | { type: 'channel.removed'; channelId: string };

const EMPTY: ChannelMessages = { messages: [], pending: [], hasMoreBefore: true, atPresent: false };

/** A channel's window (an empty, not-at-present one when none is loaded). */
export function channelMessages(state: MessagesState, channelId: string): ChannelMessages {
  return state[channelId] ?? EMPTY;
}

/** Whether the channel must be (re)loaded from the newest message. */
export function needsInitialLoad(window: ChannelMessages | undefined): boolean {
  return !window || (!window.atPresent && window.messages.length === 0);
}

const byId = (a: Message, b: Message) => compareIds(a.id, b.id);

/**
 * Upserts `incoming` (any order) into sorted `current`; an event copy keeps
 * the known reactions. Returns `current` itself when nothing changed.
 */
function merge(current: Message[], incoming: readonly Message[]): Message[] {
  const map = new Map(current.map((m) => [m.id, m]));
  let changed = false;
  for (const message of incoming) {
    const known = map.get(message.id);
    const next = withReactions(message, known);
    if (known && sameMessage(known, next)) continue;
    map.set(message.id, next);
    changed = true;
  }
  return changed ? [...map.values()].sort(byId) : current;
}

/** The fields a repeated copy (event after REST answer, replay) could change. */
function sameMessage(a: Message, b: Message): boolean {
  return (
    a.content === b.content &&
    a.edited_at === b.edited_at &&
    a.pinned === b.pinned &&
    a.nonce === b.nonce &&
    a.author.id === b.author.id &&
    a.author.username === b.author.username &&
    a.author.display_name === b.author.display_name &&
    a.referenced_message?.id === b.referenced_message?.id &&
    a.referenced_message?.content === b.referenced_message?.content &&
    JSON.stringify(a.reactions ?? null) === JSON.stringify(b.reactions ?? null)
  );
}

function withReactions(message: Message, known: Message | undefined): Message {
  if (message.reactions !== undefined || !known?.reactions) return message;
  return { ...message, reactions: known.reactions };
}

function setWindow(state: MessagesState, channelId: string, window: ChannelMessages): MessagesState {
  return { ...state, [channelId]: window };
}

function mapMessage(
  state: MessagesState,
  channelId: string,
  messageId: string,
  fn: (message: Message) => Message,
): MessagesState {
  const window = state[channelId];
  if (!window) return state;
  const index = window.messages.findIndex((m) => m.id === messageId);
  if (index < 0) return state;
  const current = window.messages[index] as Message;
  const updated = fn(current);
  if (updated === current) return state;
  const messages = [...window.messages];
  messages[index] = updated;
  return setWindow(state, channelId, { ...window, messages });
}

function dropOldest(window: ChannelMessages): ChannelMessages {
  if (window.messages.length <= MAX_WINDOW) return window;
  return { ...window, messages: window.messages.slice(-MAX_WINDOW), hasMoreBefore: true };
}

function dropNewest(window: ChannelMessages): ChannelMessages {
  if (window.messages.length <= MAX_WINDOW) return window;
  return { ...window, messages: window.messages.slice(0, MAX_WINDOW), atPresent: false };
}

/** Removes the pending messages a confirmed one stands for. */
function withoutPending(pending: PendingMessage[], confirmed: readonly Message[], meId: string | null): PendingMessage[] {
  const nonces = new Set(
    confirmed.filter((m) => m.nonce !== null && (meId === null || m.author.id === meId)).map((m) => m.nonce),
  );
  if (nonces.size === 0) return pending;
  const rest = pending.filter((p) => !nonces.has(p.nonce));
  return rest.length === pending.length ? pending : rest;
}

function loaded(state: MessagesState, action: Extract<MessagesAction, { type: 'messages.loaded' }>): MessagesState {
  const current = state[action.channelId];
  const page = action.messages;
  const full = page.length >= action.limit;
  const pending = withoutPending(current?.pending ?? [], page, null);
  switch (action.mode) {
    case 'latest': {
      // The page is the present when the server answered: messages that came
      // live after it (newer than its newest) stay.
      const newest = page.reduce<string | null>((max, m) => (max === null || compareIds(m.id, max) > 0 ? m.id : max), null);
      const later = newest === null ? (current?.messages ?? []) : (current?.messages ?? []).filter((m) => compareIds(m.id, newest) > 0);
      const known = current?.messages ?? [];
      const messages = merge(later, page.map((m) => withReactions(m, known.find((k) => k.id === m.id))));
      return setWindow(state, action.channelId, dropOldest({ messages, pending, hasMoreBefore: full, atPresent: true }));
    }
    case 'before': {
      const base = current ?? EMPTY;
      const window = { ...base, messages: merge(base.messages, page), pending, hasMoreBefore: full };
      return setWindow(state, action.channelId, dropNewest(window));
    }
    case 'after': {
      const base = current ?? EMPTY;
      const window = { ...base, messages: merge(base.messages, page), pending, atPresent: !full };
      return setWindow(state, action.channelId, dropOldest(window));
    }
    case 'around': {
      // The server answers up to (limit - 1) / 2 messages after the anchor and fills the
      // rest from before it: each side is complete where it came back short. (Judged on the
      // page's length alone, an anchor near the start of a channel made a page short enough
      // to pass for the whole channel, and every message after it was never loaded.)
      const anchor = action.anchor;
      const newer = anchor === undefined ? 0 : page.filter((m) => compareIds(m.id, anchor) > 0).length;
      const older = page.length - newer;
      const window = {
        messages: merge([], page),
        pending,
        hasMoreBefore: anchor === undefined ? full : older >= action.limit - newer,
        atPresent: anchor === undefined ? !full : newer < Math.floor((action.limit - 1) / 2),
      };
      return setWindow(state, action.channelId, window);
    }
    default:
      return state;
  }
}

function created(state: MessagesState, message: Message, meId: string | null): MessagesState {
  const window = state[message.channel_id];
  if (!window) return state;
  const pending = withoutPending(window.pending, [message], meId);
  const known = window.messages.some((m) => m.id === message.id);
  // A window that is not at the present would get a gap: the message is
  // fetched when the user scrolls down or jumps to the present. Our own
  // message (it replaces its pending copy at the bottom) always goes in.
  if (!window.atPresent && !known && pending === window.pending) return state;
  const messages = merge(window.messages, [message]);
  if (messages === window.messages && pending === window.pending) return state;
  return setWindow(state, message.channel_id, dropOldest({ ...window, messages, pending }));
}

function updated(state: MessagesState, message: Message): MessagesState {
  const window = state[message.channel_id];
  if (!window) return state;
  let changed = false;
  const messages = window.messages.map((m) => {
    if (m.id === message.id) {
      const next = withReactions(message, m);
      if (sameMessage(m, next)) return m;
      changed = true;
      return next;
    }
    if (m.referenced_message?.id === message.id && m.referenced_message.content !== message.content) {
      changed = true;
      return { ...m, referenced_message: { id: message.id, author: message.author, content: message.content } };
    }
    return m;
  });
  return changed ? setWindow(state, message.channel_id, { ...window, messages }) : state;
}

function deleted(state: MessagesState, channelId: string, ids: readonly string[]): MessagesState {
  const window = state[channelId];
  if (!window || ids.length === 0) return state;
  const gone = new Set(ids);
  let changed = false;
  const messages: Message[] = [];
  for (const m of window.messages) {
    if (gone.has(m.id)) {
      changed = true;
    } else if (m.referenced_message && gone.has(m.referenced_message.id)) {
      // The reply stays; its excerpt now reads "original message deleted".
      changed = true;
      messages.push({ ...m, referenced_message: null });
    } else {
      messages.push(m);
    }
  }
  // Ours on their way or failed, replying to a deleted message: sent (or retried) as plain
  // messages, as the server refuses a reply to a message that is gone.
  let pending = window.pending;
  if (pending.some((p) => p.reply_to !== null && gone.has(p.reply_to))) {
    changed = true;
    pending = pending.map((p) => (p.reply_to !== null && gone.has(p.reply_to) ? { ...p, reply_to: null, referenced_message: null } : p));
  }
  return changed ? setWindow(state, channelId, { ...window, messages, pending }) : state;
}

/**
 * Whether message `id` was deleted, as far as the window shows: it lies within the span the
 * window covers (from its oldest message, or the channel's start when nothing is older, to its
 * newest, or on when it reaches the present) and is not among its messages. A message outside
 * the window is not known to be gone.
 */
export function isGoneFrom(window: ChannelMessages | undefined, id: string): boolean {
  const oldest = window?.messages[0];
  const newest = window?.messages[window.messages.length - 1];
  if (!window || !oldest || !newest) return false;
  if (window.hasMoreBefore && compareIds(id, oldest.id) < 0) return false;
  if (!window.atPresent && compareIds(id, newest.id) > 0) return false;
  return !window.messages.some((m) => m.id === id);
}

/**
 * One reaction more or less. Our own reaction is idempotent (the `me` flag):
 * the event that confirms our optimistic toggle changes nothing.
 */
export function applyReaction(
  reactions: readonly Reaction[] | undefined,
  emoji: string,
  added: boolean,
  mine: boolean,
): Reaction[] {
  const list = reactions ? [...reactions] : [];
  const index = list.findIndex((r) => r.emoji === emoji);
  const current = index >= 0 ? (list[index] as Reaction) : null;
  if (added) {
    if (current && mine && current.me) return list;
    const next = current
      ? { ...current, count: current.count + 1, me: current.me || mine }
      : { emoji, count: 1, me: mine };
    if (current) list[index] = next;
    else list.push(next);
    return list;
  }
  if (!current || (mine && !current.me)) return list;
  const count = current.count - 1;
  if (count <= 0) list.splice(index, 1);
  else list[index] = { ...current, count, me: mine ? false : current.me };
  return list;
}

function pendingUpdate(
  state: MessagesState,
  channelId: string,
  nonce: string,
  fn: (p: PendingMessage) => PendingMessage | null,
): MessagesState {
  const window = state[channelId];
  if (!window) return state;
  const index = window.pending.findIndex((p) => p.nonce === nonce);
  if (index < 0) return state;
  const next = fn(window.pending[index] as PendingMessage);
  const pending = [...window.pending];
  if (next) pending[index] = next;
  else pending.splice(index, 1);
  return setWindow(state, channelId, { ...window, pending });
}

export function messagesReducer(state: MessagesState, action: MessagesAction): MessagesState {
  switch (action.type) {
    case 'messages.loaded':
      return loaded(state, action);
    case 'message.created':
      return created(state, action.message, action.meId);
    case 'message.updated':
      return updated(state, action.message);
    case 'message.deleted':
      return deleted(state, action.channelId, action.ids);
    case 'reaction.added':
    case 'reaction.removed': {
      const mine = action.meId !== null && action.userId === action.meId;
      return mapMessage(state, action.channelId, action.messageId, (m) => {
        const reactions = applyReaction(m.reactions, action.emoji, action.type === 'reaction.added', mine);
        return sameReactions(m.reactions, reactions) ? m : { ...m, reactions };
      });
    }
    case 'message.pinned':
      return mapMessage(state, action.channelId, action.messageId, (m) =>
        m.pinned === action.pinned ? m : { ...m, pinned: action.pinned },
      );
    case 'pending.added': {
      const p = action.pending;
      const window = state[p.channel_id] ?? EMPTY;
      if (window.pending.some((x) => x.nonce === p.nonce)) return state;
      return setWindow(state, p.channel_id, { ...window, pending: [...window.pending, p] });
    }
    case 'pending.failed':
      return pendingUpdate(state, action.channelId, action.nonce, (p) => ({ ...p, status: 'failed', error: action.error }));
    case 'pending.retrying':
      return pendingUpdate(state, action.channelId, action.nonce, (p) => ({ ...p, status: 'pending', error: null }));
    case 'pending.removed':
      return pendingUpdate(state, action.channelId, action.nonce, () => null);
    case 'messages.stale': {
      const next: Record<string, ChannelMessages> = {};
      for (const [channelId, window] of Object.entries(state)) {
        if (channelId === action.keep) next[channelId] = window;
        else if (window.pending.length > 0) next[channelId] = { ...EMPTY, pending: window.pending };
      }
      return next;
    }
    case 'channel.removed': {
      if (!(action.channelId in state)) return state;
      const next = { ...state };
      delete next[action.channelId];
      return next;
    }
    default:
      return state;
  }
}

function sameReactions(a: readonly Reaction[] | undefined, b: readonly Reaction[]): boolean {
  const left = a ?? [];
  return left.length === b.length && left.every((r, i) => r === b[i]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The store action for a gateway event, or null for other / malformed events. */
export function messagesActionForEvent(t: string, d: unknown, meId: string | null): MessagesAction | null {
  switch (t) {
    case 'message.created':
      return isMessage(d) ? { type: 'message.created', message: normalizeMessage(d), meId } : null;
    case 'message.updated':
      return isMessage(d) ? { type: 'message.updated', message: normalizeMessage(d) } : null;
    case 'message.deleted': {
      const e = parseMessageDeleted(d);
      return e ? { type: 'message.deleted', channelId: e.channel_id, ids: [e.id] } : null;
    }
    case 'message.bulk_deleted': {
      const e = parseBulkDeleted(d);
      return e ? { type: 'message.deleted', channelId: e.channel_id, ids: e.ids } : null;
    }
    case 'reaction.added':
    case 'reaction.removed': {
      const e = parseReactionEvent(d);
      return e
        ? { type: t, channelId: e.channel_id, messageId: e.message_id, userId: e.user_id, emoji: e.emoji, meId }
        : null;
    }
    case 'channel.deleted':
      return isRecord(d) && typeof d.id === 'string' ? { type: 'channel.removed', channelId: d.id } : null;
    default:
      return null;
  }
}

// ---------- display ----------

/**
 * What the message list shows: confirmed messages, then our unconfirmed ones, with a
 * divider before the first message of each day and one before the first unread message.
 */
export type DisplayItem =
  | { kind: 'message'; key: string; message: Message; startsGroup: boolean }
  | { kind: 'pending'; key: string; pending: PendingMessage; startsGroup: boolean }
  /** The messages below are of the local day of `at` (an ISO time). */
  | { kind: 'day'; key: string; at: string }
  /** The messages below are new: unread when the channel was opened. */
  | { kind: 'new'; key: 'new' };

/** Where the "new messages" divider goes. */
export interface NewMark {
  /** Messages after this id are new (null: no divider). */
  after: string | null;
  /** Our own messages are never new. */
  meId: string;
}

/** The local calendar day of an ISO time, as `YYYY-M-D` (null when unreadable). */
export function localDay(iso: string): string | null {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

interface GroupShape {
  authorId: string;
  createdAt: string;
  isReply: boolean;
}

/**
 * Whether a message shows a header (avatar, name, time): not when the previous
 * one is from the same author less than 7 minutes earlier, unless it is a reply.
 */
export function startsGroup(previous: GroupShape | null, current: GroupShape): boolean {
  if (!previous || current.isReply) return true;
  if (previous.authorId !== current.authorId) return true;
  const gap = Date.parse(current.createdAt) - Date.parse(previous.createdAt);
  return !Number.isFinite(gap) || gap < 0 || gap >= GROUP_WINDOW_MS;
}

export function displayItems(window: ChannelMessages, mark: NewMark | null = null): DisplayItem[] {
  const items: DisplayItem[] = [];
  let previous: GroupShape | null = null;
  let day: string | null = null;
  let marked = false;
  /** Dividers before a message; after one, the message starts a group of its own. */
  const dividers = (createdAt: string, unread: boolean): boolean => {
    let divided = false;
    const its = localDay(createdAt);
    if (its !== null && its !== day) {
      items.push({ kind: 'day', key: `day:${its}`, at: createdAt });
      day = its;
      divided = true;
    }
    if (unread && !marked) {
      items.push({ kind: 'new', key: 'new' });
      marked = true;
      divided = true;
    }
    return divided;
  };
  for (const message of window.messages) {
    const shape = { authorId: message.author.id, createdAt: message.created_at, isReply: message.reply_to !== null };
    const unread = mark !== null && mark.after !== null && message.author.id !== mark.meId && compareIds(message.id, mark.after) > 0;
    const divided = dividers(message.created_at, unread);
    items.push({ kind: 'message', key: message.id, message, startsGroup: divided || startsGroup(previous, shape) });
    previous = shape;
  }
  // Unconfirmed messages only belong at the bottom of the present.
  if (window.atPresent) {
    for (const pending of window.pending) {
      const shape = { authorId: pending.author.id, createdAt: pending.created_at, isReply: pending.reply_to !== null };
      const divided = dividers(pending.created_at, false);
      items.push({ kind: 'pending', key: `pending:${pending.nonce}`, pending, startsGroup: divided || startsGroup(previous, shape) });
      previous = shape;
    }
  }
  return items;
}

/** The newest confirmed message of a window at the present (what an ack points to). */
export function newestMessageId(window: ChannelMessages | undefined): string | null {
  if (!window || !window.atPresent) return null;
  return window.messages[window.messages.length - 1]?.id ?? null;
}

/**
 * How many messages of others a window at the present holds after `after`: those that came
 * while the user was scrolled up from the newest one, `after` (0 when `after` is null).
 */
export function arrivedSince(window: ChannelMessages, after: string | null, meId: string): number {
  if (after === null || !window.atPresent) return 0;
  let count = 0;
  for (let i = window.messages.length - 1; i >= 0; i--) {
    const message = window.messages[i]!;
    if (compareIds(message.id, after) <= 0) break;
    if (message.author.id !== meId) count++;
  }
  return count;
}

/** Whether toggling `emoji` on `message` adds our reaction (else removes it). */
export function reactionWouldAdd(message: Pick<Message, 'reactions'>, emoji: string): boolean {
  return !(message.reactions ?? []).some((r) => r.emoji === emoji && r.me);
}

/** A nonce for a new message (≤ 64 characters; works without a secure context). */
export function makeNonce(fill: (bytes: Uint8Array<ArrayBuffer>) => void = defaultFill): string {
  const bytes = new Uint8Array(16);
  fill(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function defaultFill(bytes: Uint8Array<ArrayBuffer>): void {
  if (typeof crypto !== 'undefined' && typeof crypto.getRandomValues === 'function') {
    crypto.getRandomValues(bytes);
    return;
  }
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
}
