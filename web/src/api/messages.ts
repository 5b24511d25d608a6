// Message and read-state routes (docs/api.md "Messages", "Read states"). Built
// on an ApiClient so that tests can pass one with a fake fetch; the app's
// instance is `messagesApi` in index.ts. Answers are checked and normalized.

import type { ApiClient } from './client';
import { isMessage, messagesFrom, normalizeMessage, readStatesFrom } from './messageGuards';
import { ApiError } from './errors';
import type { Message, MessageCreateInput, MessageQuery, ReadState } from './types';

const id = (value: string) => encodeURIComponent(value);

/** Default and maximum page size of `GET /channels/{id}/messages`. */
export const MESSAGE_PAGE_LIMIT = 50;
export const MESSAGE_PAGE_MAX = 100;
/** The longest message the server accepts (characters, after trimming). */
export const MESSAGE_MAX_LENGTH = 4000;

/** `?before=…&limit=…` (at most one of before / after / around; limit clamped to 1–100). */
export function messageQueryString(query: MessageQuery = {}): string {
  const search = new URLSearchParams();
  if (query.before) search.set('before', query.before);
  else if (query.after) search.set('after', query.after);
  else if (query.around) search.set('around', query.around);
  if (query.limit !== undefined) {
    search.set('limit', String(Math.min(MESSAGE_PAGE_MAX, Math.max(1, Math.floor(query.limit)))));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A message from the server (REST answer or gateway frame), checked and normalized. */
export function messageFrom(value: unknown): Message {
  if (!isMessage(value)) {
    throw new ApiError({ status: 0, code: 'invalid_response', message: 'The server sent a malformed message' });
  }
  return normalizeMessage(value);
}

type RequestClient = Pick<ApiClient, 'request'>;

export function createMessagesApi(client: RequestClient) {
  const base = (channelId: string) => `/channels/${id(channelId)}`;
  const messagePath = (channelId: string, messageId: string) => `${base(channelId)}/messages/${id(messageId)}`;
  return {
    /** Newest first. */
    list: async (channelId: string, query: MessageQuery = {}, signal?: AbortSignal): Promise<Message[]> =>
      messagesFrom(
        await client.request<unknown>('GET', `${base(channelId)}/messages${messageQueryString(query)}`, {
          ...(signal ? { signal } : {}),
        }),
      ),
    get: async (channelId: string, messageId: string): Promise<Message> =>
      messageFrom(await client.request<unknown>('GET', messagePath(channelId, messageId))),
    /** 201 (or 200 with the original message for a repeated nonce). */
    send: async (channelId: string, input: MessageCreateInput): Promise<Message> =>
      messageFrom(await client.request<unknown>('POST', `${base(channelId)}/messages`, { body: input })),
    /** The author only; sets `edited_at`. */
    edit: async (channelId: string, messageId: string, content: string): Promise<Message> =>
      messageFrom(await client.request<unknown>('PATCH', messagePath(channelId, messageId), { body: { content } })),
    /** The author, or manage_messages. */
    remove: (channelId: string, messageId: string) =>
      client.request<void>('DELETE', messagePath(channelId, messageId)),
    /** manage_messages; 2–100 ids. */
    bulkDelete: (channelId: string, messageIds: string[]) =>
      client.request<void>('POST', `${base(channelId)}/messages/bulk-delete`, { body: { messages: messageIds } }),
    /** add_reactions + read_message_history; idempotent. */
    addReaction: (channelId: string, messageId: string, emoji: string) =>
      client.request<void>('PUT', `${messagePath(channelId, messageId)}/reactions/${id(emoji)}`),
    /** Removes the caller's own reaction. */
    removeReaction: (channelId: string, messageId: string, emoji: string) =>
      client.request<void>('DELETE', `${messagePath(channelId, messageId)}/reactions/${id(emoji)}`),
    /** Newest pin first. */
    pins: async (channelId: string): Promise<Message[]> =>
      messagesFrom(await client.request<unknown>('GET', `${base(channelId)}/pins`)),
    /** manage_messages; 409 too_many_pins past 50. */
    pin: (channelId: string, messageId: string) =>
      client.request<void>('PUT', `${base(channelId)}/pins/${id(messageId)}`),
    unpin: (channelId: string, messageId: string) =>
      client.request<void>('DELETE', `${base(channelId)}/pins/${id(messageId)}`),
    /** Marks the channel read up to `messageId`; `read_state.updated` follows on every session. */
    ack: (channelId: string, messageId: string) =>
      client.request<void>('POST', `${base(channelId)}/ack`, { body: { message_id: messageId } }),
    /** The read state of every text channel the caller can view. */
    readStates: async (): Promise<ReadState[]> =>
      readStatesFrom(await client.request<unknown>('GET', '/users/@me/read-states')),
  };
}

export type MessagesApi = ReturnType<typeof createMessagesApi>;
