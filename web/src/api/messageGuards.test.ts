import { describe, expect, it } from 'vitest';
import {
  isMessage,
  normalizeMessage,
  parseBulkDeleted,
  parseMessageDeleted,
  parsePinsUpdated,
  parseReactionEvent,
  parseTypingStarted,
  readStatesFrom,
} from './messageGuards';
import { parseFrame } from '../gateway/protocol';
import type { Message } from './types';

const author = { id: '2', username: 'ana' };

describe('message guards', () => {
  it('requires id, channel, content and an author', () => {
    expect(isMessage({ id: '1', channel_id: '5', content: 'x', author })).toBe(true);
    expect(isMessage({ id: '1', channel_id: '5', content: 'x' })).toBe(false);
    expect(isMessage({ id: 1, channel_id: '5', content: 'x', author })).toBe(false);
    expect(isMessage({ id: '1', channel_id: '5', content: null, author })).toBe(false);
    expect(isMessage(null)).toBe(false);
  });

  it('fills defaults and keeps a well-formed reply excerpt', () => {
    const raw = {
      id: '3',
      channel_id: '5',
      content: 'reply',
      author,
      reply_to: '1',
      referenced_message: { id: '1', author, content: 'original' },
      mentions: ['2', 7],
      mention_everyone: true,
      pinned: true,
      edited_at: '2026-01-01T00:00:00Z',
    } as unknown as Message;
    const message = normalizeMessage(raw);
    expect(message.referenced_message).toMatchObject({ id: '1', content: 'original', author: { username: 'ana' } });
    expect(message.mentions).toEqual(['2']);
    expect(message.mention_everyone).toBe(true);
    expect(message.pinned).toBe(true);
    expect(message.edited_at).toBe('2026-01-01T00:00:00Z');
    expect(message.author.display_name).toBeNull();
    expect('reactions' in message).toBe(false);
  });

  it('drops malformed reactions and empty counts', () => {
    const raw = {
      id: '3',
      channel_id: '5',
      content: 'x',
      author,
      reactions: [{ emoji: '👍', count: 2, me: true }, { emoji: '🎉', count: 0 }, { count: 1 }],
    } as unknown as Message;
    expect(normalizeMessage(raw).reactions).toEqual([{ emoji: '👍', count: 2, me: true }]);
  });

  it('parses event payloads', () => {
    expect(parseMessageDeleted({ id: '1', channel_id: '5', server_id: '9' })).toEqual({ id: '1', channel_id: '5', server_id: '9' });
    expect(parseMessageDeleted({ id: '1' })).toBeNull();
    expect(parseBulkDeleted({ ids: ['1', 2, '3'], channel_id: '5' })).toEqual({ ids: ['1', '3'], channel_id: '5', server_id: '' });
    expect(parseReactionEvent({ channel_id: '5', message_id: '1', user_id: '2', emoji: '👍' })).toMatchObject({ emoji: '👍' });
    expect(parseReactionEvent({ channel_id: '5', message_id: '1', emoji: '👍' })).toBeNull();
    expect(parseTypingStarted({ channel_id: '5', user_id: '2', expires_at_ms: 123 })).toMatchObject({ expires_at_ms: 123 });
    expect(parseTypingStarted({ channel_id: '5', user_id: '2' })?.expires_at_ms).toBeNull();
    expect(parsePinsUpdated({ channel_id: '5', server_id: '9' })).toEqual({ channel_id: '5', server_id: '9' });
    expect(parsePinsUpdated({})).toBeNull();
  });

  it('keeps well-formed read states with a non-negative whole mention count', () => {
    expect(
      readStatesFrom([
        { channel_id: '5', last_read_id: '9' },
        { channel_id: '6', last_read_id: '9', mention_count: 2.7 },
        { channel_id: '7', last_read_id: 9 },
        'junk',
      ]),
    ).toEqual([
      { channel_id: '5', last_read_id: '9', mention_count: 0 },
      { channel_id: '6', last_read_id: '9', mention_count: 2 },
    ]);
    expect(readStatesFrom(null)).toEqual([]);
  });
});

describe('ready frame', () => {
  it('carries the well-formed read states, and none when the server sends none', () => {
    const frame = (d: Record<string, unknown>) =>
      parseFrame(JSON.stringify({ op: 'ready', d: { session_id: 's', user: { id: '1' }, presences: [], ...d } }));
    const ready = frame({ read_states: [{ channel_id: '5', last_read_id: '9', mention_count: 1 }, { bad: true }] });
    expect(ready?.op === 'ready' ? ready.d.read_states : null).toEqual([{ channel_id: '5', last_read_id: '9', mention_count: 1 }]);
    const old = frame({});
    expect(old?.op === 'ready' ? old.d.read_states : null).toBeUndefined();
  });
});
