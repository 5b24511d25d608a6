// What the chat UI does over REST: load history, send (optimistically, with a
// nonce), edit, delete, react, pin, acknowledge. Every answer goes through the
// same reducers as the gateway events, so the order they arrive in does not
// matter. No React.

import { isApiError } from '../api/errors';
import { MESSAGE_PAGE_LIMIT, messageFrom, type MessagesApi } from '../api/messages';
import type { Member, Message, PublicUser, ReadState } from '../api/types';
import type { MessageCreateData } from '../gateway/protocol';
import { isGatewaySendLost } from '../gateway/sends';
import type { ChatStore } from './chatStore';
import { makeNonce, reactionWouldAdd, type LoadMode, type PendingMessage, type SendError } from './messages';
import { usersOf } from './userDirectory';

export const PAGE_SIZE = MESSAGE_PAGE_LIMIT;

export interface ChatActionsDeps {
  api: MessagesApi;
  /** Sends over the open gateway socket; null when it is not connected (REST then). */
  gateway?: { sendMessage(data: MessageCreateData): Promise<unknown> | null };
  /** `GET /servers/{id}/members/{user_id}` */
  getMember?(serverId: string, userId: string): Promise<Member>;
  /** `GET /users/{id}` */
  getUser?(userId: string): Promise<PublicUser>;
  nonce?(): string;
  now?(): number;
  log?: Pick<Console, 'warn'>;
}

export type SendOutcome = { ok: true; message: Message } | { ok: false; error: SendError };

export function sendErrorOf(err: unknown): SendError {
  if (isApiError(err)) {
    const error: SendError = { status: err.status, code: err.code, message: err.message, retryAfter: err.retryAfter };
    const fields = Object.entries(err.fields).map(([name, f]) => [name, { code: f.code }] as const);
    return fields.length > 0 ? { ...error, fields: Object.fromEntries(fields) } : error;
  }
  return { status: 0, code: 'unknown_error', message: err instanceof Error ? err.message : String(err), retryAfter: null };
}

const isNotFound = (err: unknown) => isApiError(err) && err.status === 404;

export function createChatActions(store: ChatStore, deps: ChatActionsDeps) {
  const { api } = deps;
  const now = deps.now ?? (() => Date.now());
  const log = deps.log ?? console;
  const inflight = new Map<string, Promise<void>>();
  const lookups = new Map<string, Promise<void>>();

  /** One request per key at a time (React StrictMode runs effects twice). */
  function once(key: string, run: () => Promise<void>): Promise<void> {
    const running = inflight.get(key);
    if (running) return running;
    const promise = run().finally(() => inflight.delete(key));
    inflight.set(key, promise);
    return promise;
  }

  const window = (channelId: string) => store.getState().messages[channelId];

  function loaded(channelId: string, messages: Message[], mode: LoadMode, anchor?: string) {
    store.dispatch(
      { type: 'messages.loaded', channelId, messages, mode, limit: PAGE_SIZE, anchor },
      { type: 'directory.users', users: usersOf(messages) },
    );
  }

  function meId(): string | null {
    return store.me()?.id ?? null;
  }

  // A channel's sends over REST go one after the other, in the order they were made: sent
  // at once (after a stall each gateway send timed out and went over REST), the server took
  // them in any order (a second audit saw F3, F1, F2).
  const restSends = new Map<string, Promise<unknown>>();
  function inOrder<T>(channelId: string, run: () => Promise<T>): Promise<T> {
    const before = restSends.get(channelId) ?? Promise.resolve();
    const mine = before.then(run, run);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    restSends.set(channelId, settled);
    void settled.then(() => {
      if (restSends.get(channelId) === settled) restSends.delete(channelId);
    });
    return mine;
  }

  /** Over the gateway when it is connected, else (or when its socket goes away) over REST. */
  async function post(pending: PendingMessage): Promise<Message> {
    const body = {
      content: pending.content,
      nonce: pending.nonce,
      ...(pending.reply_to ? { reply_to: pending.reply_to } : {}),
    };
    const viaGateway = deps.gateway?.sendMessage({ channel_id: pending.channel_id, ...body }) ?? null;
    if (viaGateway) {
      try {
        return messageFrom(await viaGateway);
      } catch (err) {
        if (!isGatewaySendLost(err)) throw err;
        // The same nonce over REST answers the first message if this one was committed.
        log.warn('papo: gateway send lost, sending over REST', err);
      }
    }
    return inOrder(pending.channel_id, () => api.send(pending.channel_id, body));
  }

  async function deliver(pending: PendingMessage): Promise<SendOutcome> {
    try {
      const message = await post(pending);
      store.dispatch({ type: 'message.created', message, meId: meId() });
      return { ok: true, message };
    } catch (err) {
      const error = sendErrorOf(err);
      store.dispatch({ type: 'pending.failed', channelId: pending.channel_id, nonce: pending.nonce, error });
      return { ok: false, error };
    }
  }

  const actions = {
    /** The newest page (replaces the window; messages that came live since stay). */
    loadLatest(channelId: string): Promise<void> {
      return once(`${channelId}:latest`, async () => {
        loaded(channelId, await api.list(channelId, { limit: PAGE_SIZE }), 'latest');
      });
    },

    /** The page before the oldest loaded message (infinite scroll back). */
    loadOlder(channelId: string): Promise<void> {
      const w = window(channelId);
      const oldest = w?.messages[0];
      if (!w || !oldest || !w.hasMoreBefore) return Promise.resolve();
      return once(`${channelId}:before`, async () => {
        loaded(channelId, await api.list(channelId, { before: oldest.id, limit: PAGE_SIZE }), 'before');
      });
    },

    /** The page after the newest loaded message, when the window is not at the present. */
    loadNewer(channelId: string): Promise<void> {
      const w = window(channelId);
      const newest = w?.messages[w.messages.length - 1];
      if (!w || w.atPresent) return Promise.resolve();
      if (!newest) return actions.loadLatest(channelId);
      return once(`${channelId}:after`, async () => {
        loaded(channelId, await api.list(channelId, { after: newest.id, limit: PAGE_SIZE }), 'after');
      });
    },

    /** A page around an older message (to show it), unless it is loaded already. */
    loadAround(channelId: string, messageId: string): Promise<void> {
      if (window(channelId)?.messages.some((m) => m.id === messageId)) return Promise.resolve();
      return once(`${channelId}:around`, async () => {
        loaded(channelId, await api.list(channelId, { around: messageId, limit: PAGE_SIZE }), 'around', messageId);
      });
    },

    /** Optimistic send: shown at once as pending, confirmed by the answer or the event with our nonce. */
    send(input: { channelId: string; serverId: string; content: string; replyTo: Message | null }): Promise<SendOutcome> {
      const author = store.me();
      if (!author) {
        return Promise.resolve({ ok: false, error: sendErrorOf(new Error('not logged in')) });
      }
      const pending: PendingMessage = {
        nonce: (deps.nonce ?? makeNonce)(),
        channel_id: input.channelId,
        server_id: input.serverId,
        author,
        content: input.content,
        reply_to: input.replyTo?.id ?? null,
        referenced_message: input.replyTo
          ? { id: input.replyTo.id, author: input.replyTo.author, content: input.replyTo.content }
          : null,
        created_at: new Date(now()).toISOString(),
        status: 'pending',
        error: null,
      };
      store.dispatch({ type: 'pending.added', pending });
      const w = window(input.channelId);
      if (w && !w.atPresent) actions.loadLatest(input.channelId).catch((err: unknown) => log.warn('papo: load failed', err));
      return deliver(pending);
    },

    /** Sends a failed message again with the same nonce (never a duplicate). */
    retry(channelId: string, nonce: string): Promise<SendOutcome> | null {
      const pending = window(channelId)?.pending.find((p) => p.nonce === nonce);
      if (!pending || pending.status !== 'failed') return null;
      store.dispatch({ type: 'pending.retrying', channelId, nonce });
      return deliver(pending);
    },

    /**
     * Sends again, in order, each message that failed for want of a connection (no status:
     * the server never answered), once the connection is back. Refused ones (a 4xx) stay
     * failed, for the user to see why.
     */
    async resendUnreached(): Promise<void> {
      for (const [channelId, w] of Object.entries(store.getState().messages)) {
        const unreached = w.pending.filter((p) => p.status === 'failed' && p.error?.status === 0);
        for (const p of unreached) await actions.retry(channelId, p.nonce);
      }
    },

    /** Drops a failed message. */
    discard(channelId: string, nonce: string): void {
      store.dispatch({ type: 'pending.removed', channelId, nonce });
    },

    async edit(message: Message, content: string): Promise<void> {
      const updated = await api.edit(message.channel_id, message.id, content);
      store.dispatch({ type: 'message.updated', message: updated });
    },

    async remove(message: Pick<Message, 'id' | 'channel_id'>): Promise<void> {
      try {
        await api.remove(message.channel_id, message.id);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      store.dispatch({ type: 'message.deleted', channelId: message.channel_id, ids: [message.id] });
    },

    /** Adds our reaction, or removes it when we already reacted (optimistic, reverted on failure). */
    async toggleReaction(message: Message, emoji: string): Promise<void> {
      const me = meId();
      if (!me) return;
      const add = reactionWouldAdd(message, emoji);
      const change = (added: boolean) =>
        store.dispatch({
          type: added ? 'reaction.added' : 'reaction.removed',
          channelId: message.channel_id,
          messageId: message.id,
          userId: me,
          emoji,
          meId: me,
        });
      change(add);
      try {
        if (add) await api.addReaction(message.channel_id, message.id, emoji);
        else await api.removeReaction(message.channel_id, message.id, emoji);
      } catch (err) {
        change(!add);
        throw err;
      }
    },

    async setPinned(message: Message, pinned: boolean): Promise<void> {
      const set = (value: boolean) =>
        store.dispatch({ type: 'message.pinned', channelId: message.channel_id, messageId: message.id, pinned: value });
      set(pinned);
      try {
        if (pinned) await api.pin(message.channel_id, message.id);
        else await api.unpin(message.channel_id, message.id);
      } catch (err) {
        set(!pinned);
        throw err;
      }
      store.dispatch({ type: 'pins.changed', channelId: message.channel_id });
    },

    async pins(channelId: string): Promise<Message[]> {
      const messages = await api.pins(channelId);
      store.dispatch({ type: 'directory.users', users: usersOf(messages) });
      return messages;
    },

    /** Marks the channel read up to `messageId` (locally at once). */
    async ack(channelId: string, messageId: string): Promise<void> {
      store.dispatch({ type: 'readState.acked', channelId, messageId });
      try {
        await api.ack(channelId, messageId);
      } catch (err) {
        log.warn('papo: ack failed', err);
      }
    },

    /** Read states over REST (a gateway `ready` without them). */
    /** The server's count of mentions in channels the client cannot count itself. */
    async refreshMentionCounts(channelIds: readonly string[]): Promise<void> {
      const wanted = new Set(channelIds);
      const fresh = (await api.readStates()).filter((rs) => wanted.has(rs.channel_id));
      if (fresh.length > 0) store.dispatch(...fresh.map((readState) => ({ type: 'readState.updated' as const, readState })));
    },

    async loadReadStates(): Promise<void> {
      const readStates: ReadState[] = await api.readStates();
      store.dispatch({ type: 'readStates.loaded', readStates });
    },

    /** Looks up a member we know nothing about (a mention), once. */
    lookupMember(serverId: string, userId: string): Promise<void> {
      const key = `${serverId}:${userId}`;
      const running = lookups.get(key);
      if (running) return running;
      const run = (async () => {
        try {
          if (!deps.getMember) throw new Error('no member lookup');
          store.dispatch({ type: 'directory.member', member: await deps.getMember(serverId, userId) });
          return;
        } catch (err) {
          if (!isNotFound(err) && deps.getMember) log.warn('papo: member lookup failed', err);
        }
        try {
          // Not (or no longer) a member: the account's name still reads better than "unknown".
          if (!deps.getUser) throw new Error('no user lookup');
          store.dispatch({ type: 'directory.users', users: [await deps.getUser(userId)] });
        } catch {
          store.dispatch({ type: 'directory.missing', serverId, userId });
        }
      })();
      lookups.set(key, run);
      return run;
    },

    /** Forgets the member lookups (another session). */
    forgetLookups(): void {
      lookups.clear();
    },

    /** After a gateway resync: forget what may be stale, reload the open channel. */
    resync(): void {
      const open = store.openChannel();
      store.dispatch({ type: 'messages.stale', keep: open }, { type: 'typing.reset' });
      if (open) actions.loadLatest(open).catch((err: unknown) => log.warn('papo: re-sync of messages failed', err));
    },
  };
  return actions;
}

export type ChatActions = ReturnType<typeof createChatActions>;
