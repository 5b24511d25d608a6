// What the user has read, per text channel, as pure data + reducers (no
// React): from `ready.read_states`, `read_state.updated` events and our own
// acks. A channel is unread when its newest message (the channel's
// `last_message_id`, or a newer one seen in a `message.created` event) is newer
// than `last_read_id`.

import { isServerDetail, normalizeServerDetail } from '../api/guards';
import { isReadState, normalizeReadState } from '../api/messageGuards';
import type { Channel, Message, ReadState } from '../api/types';
import { compareIds } from './servers';

export interface ReadStatesState {
  /** channel id → read state, as the server knows it (plus our acks on their way). */
  byChannel: Readonly<Record<string, ReadState>>;
  /** channel id → the newest message id seen live (newer than the channel's `last_message_id`). */
  lastMessage: Readonly<Record<string, string>>;
  /**
   * channel id → read here but not acknowledged yet: our own messages, and
   * messages that arrived while the user was looking at the channel (the ack
   * follows). Counts as read, without moving what the ack compares against.
   */
  seen: Readonly<Record<string, string>>;
  /** Read states have arrived (before that, nothing counts as unread). */
  loaded: boolean;
}

export const EMPTY_READ_STATES: ReadStatesState = { byChannel: {}, lastMessage: {}, seen: {}, loaded: false };

/** Who is reading: for mentions and for our own messages. */
export interface Reader {
  userId: string;
  /** The user's role ids in the message's server. */
  roleIds: readonly string[];
}

export type ReadStatesAction =
  /** `ready.read_states` (or `GET /users/@me/read-states`): replaces everything. */
  | { type: 'readStates.loaded'; readStates: ReadState[] }
  /** `read_state.updated` (after an ack from any of our sessions). */
  | { type: 'readState.updated'; readState: ReadState }
  /** Our own ack, before the server confirms it. */
  | { type: 'readState.acked'; channelId: string; messageId: string }
  /**
   * `message.created`. `viewing`: the user is looking at the channel's newest
   * messages right now (they count as read, the ack follows).
   */
  | { type: 'readState.message'; message: Message; reader: Reader | null; viewing: boolean }
  /**
   * `server.created`: a server we just joined (or made). The server reads what its
   * channels held before we joined as read, so their newest messages are read here too.
   */
  | { type: 'readStates.joined'; channels: readonly Pick<Channel, 'id' | 'kind' | 'last_message_id'>[] };

const max = (a: string | null | undefined, b: string): string => (a && compareIds(a, b) >= 0 ? a : b);

/** Whether a message pings the reader: directly, through one of their roles, or @everyone / @here. */
export function mentionsReader(message: Pick<Message, 'mentions' | 'mention_roles' | 'mention_everyone'>, reader: Reader): boolean {
  if (message.mention_everyone) return true;
  if (message.mentions.includes(reader.userId)) return true;
  return message.mention_roles.some((role) => reader.roleIds.includes(role));
}

function readUpTo(state: ReadStatesState, channelId: string, messageId: string): ReadStatesState {
  const current = state.byChannel[channelId];
  if (current && compareIds(current.last_read_id, messageId) >= 0 && current.mention_count === 0) return state;
  const next: ReadState = {
    channel_id: channelId,
    last_read_id: max(current?.last_read_id, messageId),
    mention_count: 0,
  };
  return { ...state, byChannel: { ...state.byChannel, [channelId]: next } };
}

export function readStatesReducer(state: ReadStatesState, action: ReadStatesAction): ReadStatesState {
  switch (action.type) {
    case 'readStates.loaded': {
      const byChannel: Record<string, ReadState> = {};
      for (const rs of action.readStates) byChannel[rs.channel_id] = rs;
      // A new session's channels carry their own last_message_id.
      return { byChannel, lastMessage: {}, seen: state.seen, loaded: true };
    }
    case 'readState.updated': {
      const incoming = action.readState;
      const current = state.byChannel[incoming.channel_id];
      // Acks only move forward: a late answer to an older ack changes nothing.
      if (current && compareIds(incoming.last_read_id, current.last_read_id) < 0) return state;
      if (
        current &&
        current.last_read_id === incoming.last_read_id &&
        current.mention_count === incoming.mention_count
      ) {
        return state;
      }
      return { ...state, byChannel: { ...state.byChannel, [incoming.channel_id]: incoming } };
    }
    case 'readState.acked':
      return readUpTo(state, action.channelId, action.messageId);
    case 'readStates.joined': {
      let byChannel: Record<string, ReadState> | null = null;
      for (const channel of action.channels) {
        if (channel.kind !== 'text' || !channel.last_message_id || state.byChannel[channel.id]) continue;
        byChannel ??= { ...state.byChannel };
        byChannel[channel.id] = { channel_id: channel.id, last_read_id: channel.last_message_id, mention_count: 0 };
      }
      return byChannel ? { ...state, byChannel } : state;
    }
    case 'readState.message': {
      const { message, reader } = action;
      const channelId = message.channel_id;
      const lastMessage = max(state.lastMessage[channelId], message.id);
      let next =
        lastMessage === state.lastMessage[channelId]
          ? state
          : { ...state, lastMessage: { ...state.lastMessage, [channelId]: lastMessage } };
      const own = reader !== null && message.author.id === reader.userId;
      if (own || action.viewing) {
        const seen = max(next.seen[channelId], message.id);
        return seen === next.seen[channelId] ? next : { ...next, seen: { ...next.seen, [channelId]: seen } };
      }
      if (reader && mentionsReader(message, reader)) {
        const current = next.byChannel[channelId];
        // Already read (a replay): no new mention.
        if (current && compareIds(current.last_read_id, message.id) >= 0) return next;
        const rs: ReadState = {
          channel_id: channelId,
          last_read_id: current?.last_read_id ?? '0',
          mention_count: (current?.mention_count ?? 0) + 1,
        };
        next = { ...next, byChannel: { ...next.byChannel, [channelId]: rs } };
      }
      return next;
    }
    default:
      return state;
  }
}

/** The store action for a gateway event (`read_state.updated`, `server.created`), or null. */
export function readStatesActionForEvent(t: string, d: unknown): ReadStatesAction | null {
  if (t === 'read_state.updated' && isReadState(d)) return { type: 'readState.updated', readState: normalizeReadState(d) };
  if (t === 'server.created' && isServerDetail(d)) return { type: 'readStates.joined', channels: normalizeServerDetail(d).channels };
  return null;
}

// ---------- selectors ----------

/** The newest message id we know of in a channel. */
export function lastMessageId(state: ReadStatesState, channel: Pick<Channel, 'id' | 'last_message_id'>): string | null {
  const live = state.lastMessage[channel.id];
  if (!channel.last_message_id) return live ?? null;
  return live ? max(channel.last_message_id, live) : channel.last_message_id;
}

export interface ChannelUnread {
  unread: boolean;
  mentions: number;
}

const READ: ChannelUnread = { unread: false, mentions: 0 };

/** How far the user has read a channel: acknowledged, or seen here since (null: nothing known). */
export function readPosition(state: ReadStatesState, channelId: string): string | null {
  const rs = state.byChannel[channelId];
  const seen = state.seen[channelId];
  return rs ? (seen ? max(rs.last_read_id, seen) : rs.last_read_id) : (seen ?? null);
}

/** Unread flag and mention count of a text channel (voice channels and categories are never unread). */
export function channelUnread(
  state: ReadStatesState,
  channel: Pick<Channel, 'id' | 'kind' | 'last_message_id'>,
): ChannelUnread {
  if (channel.kind !== 'text' || !state.loaded) return READ;
  const last = lastMessageId(state, channel);
  const rs = state.byChannel[channel.id];
  const mentions = rs?.mention_count ?? 0;
  const read = readPosition(state, channel.id);
  // Never acknowledged: the server's floor is the moment we joined, so no state = nothing read.
  const unread = last !== null && (read === null || compareIds(last, read) > 0);
  if (!unread && mentions === 0) return READ;
  return { unread: unread || mentions > 0, mentions };
}

/**
 * What to acknowledge while the user looks at the channel's newest message:
 * that message when the server has not been told yet (or mentions remain),
 * else null.
 */
export function ackTarget(state: ReadStatesState, channelId: string, newest: string | null, viewing: boolean): string | null {
  if (!viewing || newest === null) return null;
  const rs = state.byChannel[channelId];
  if (!rs || compareIds(newest, rs.last_read_id) > 0 || rs.mention_count > 0) return newest;
  return null;
}

/** A server is unread when one of its text channels is; mentions add up. */
export function serverUnread(
  state: ReadStatesState,
  server: { channels: readonly Pick<Channel, 'id' | 'kind' | 'last_message_id'>[] },
): ChannelUnread {
  let unread = false;
  let mentions = 0;
  for (const channel of server.channels) {
    const c = channelUnread(state, channel);
    unread ||= c.unread;
    mentions += c.mentions;
  }
  return unread || mentions > 0 ? { unread, mentions } : READ;
}
