// Test fixtures for the chat state (messages, read states). Only imported by *.test.ts files.

import type { Message, PublicUser } from '../api/types';
import type { PendingMessage } from './messages';

export function user(id: string, fields: Partial<PublicUser> = {}): PublicUser {
  return {
    id,
    username: `user${id}`,
    display_name: null,
    bio: null,
    pronouns: null,
    accent_color: null,
    avatar: null,
    banner: null,
    created_at: '2026-01-01T00:00:00Z',
    ...fields,
  };
}

/** A message of channel `c1` in server `s1`, by user `u1`, one minute apart per id by default. */
export function message(id: string, fields: Partial<Message> = {}): Message {
  return {
    id,
    channel_id: 'c1',
    server_id: 's1',
    author: user('u1'),
    content: `message ${id}`,
    nonce: null,
    created_at: new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + Number(id) * 60_000).toISOString(),
    edited_at: null,
    reply_to: null,
    referenced_message: null,
    mentions: [],
    mention_roles: [],
    mention_everyone: false,
    pinned: false,
    ...fields,
  };
}

export function pending(nonce: string, fields: Partial<PendingMessage> = {}): PendingMessage {
  return {
    nonce,
    channel_id: 'c1',
    server_id: 's1',
    author: user('me'),
    content: `pending ${nonce}`,
    reply_to: null,
    referenced_message: null,
    created_at: '2026-01-01T13:00:00.000Z',
    status: 'pending',
    error: null,
    ...fields,
  };
}

/** `count` messages with ids from..from+count-1, newest first (as the API answers). */
export function page(from: number, count: number, fields: Partial<Message> = {}): Message[] {
  return Array.from({ length: count }, (_, i) => message(String(from + count - 1 - i), fields));
}
