import { describe, expect, it } from 'vitest';
import {
  TYPING_SHOW_MS,
  nextTypingExpiry,
  shouldSendTyping,
  typingActionForEvent,
  typingReducer,
  typingUsers,
  type TypingState,
} from './typing';

const started = (userId: string, now: number, channelId = 'c1') => {
  const action = typingActionForEvent(
    'typing.started',
    { channel_id: channelId, server_id: 's1', user_id: userId, expires_at_ms: now + 8_000 },
    'me',
    now,
  );
  if (!action) throw new Error('no action');
  return action;
};

describe('typing', () => {
  it('shows a typing user for 8 s from when the event arrived', () => {
    const state = typingReducer({}, started('u1', 1_000));
    expect(typingUsers(state, 'c1', 1_000, 'me')).toEqual(['u1']);
    expect(typingUsers(state, 'c1', 1_000 + TYPING_SHOW_MS - 1, 'me')).toEqual(['u1']);
    expect(typingUsers(state, 'c1', 1_000 + TYPING_SHOW_MS, 'me')).toEqual([]);
    expect(typingUsers(state, 'c2', 1_000, 'me')).toEqual([]);
  });

  it('never shows ourselves', () => {
    expect(typingActionForEvent('typing.started', { channel_id: 'c1', user_id: 'me' }, 'me', 0)).toBeNull();
    const state: TypingState = { c1: { me: 10_000 } };
    expect(typingUsers(state, 'c1', 0, 'me')).toEqual([]);
  });

  it('ignores malformed events and other event types', () => {
    expect(typingActionForEvent('typing.started', { user_id: 'u1' }, 'me', 0)).toBeNull();
    expect(typingActionForEvent('message.created', { channel_id: 'c1', user_id: 'u1' }, 'me', 0)).toBeNull();
  });

  it('extends with a newer event and stops when their message arrives', () => {
    let state = typingReducer({}, started('u1', 0));
    state = typingReducer(state, started('u1', 5_000));
    expect(typingUsers(state, 'c1', 12_000, 'me')).toEqual(['u1']);
    state = typingReducer(state, { type: 'typing.stopped', channelId: 'c1', userId: 'u1' });
    expect(typingUsers(state, 'c1', 6_000, 'me')).toEqual([]);
  });

  it('orders several users and prunes the expired ones', () => {
    let state = typingReducer({}, started('u2', 0));
    state = typingReducer(state, started('u1', 1_000));
    state = typingReducer(state, started('u3', 0, 'c2'));
    expect(typingUsers(state, 'c1', 2_000, 'me')).toEqual(['u2', 'u1']);
    expect(nextTypingExpiry(state, 'c1', 2_000)).toBe(TYPING_SHOW_MS);
    state = typingReducer(state, { type: 'typing.pruned', now: TYPING_SHOW_MS });
    expect(state).toEqual({ c1: { u1: 1_000 + TYPING_SHOW_MS } });
    expect(typingReducer(state, { type: 'typing.pruned', now: 0 })).toBe(state);
    expect(nextTypingExpiry(state, 'c2', 0)).toBeNull();
  });

  it('sends typing_start at most every 8 s and only with some text', () => {
    expect(shouldSendTyping(null, 0, 'h')).toBe(true);
    expect(shouldSendTyping(null, 0, '   ')).toBe(false);
    expect(shouldSendTyping(0, 7_999, 'hello')).toBe(false);
    expect(shouldSendTyping(0, 8_000, 'hello')).toBe(true);
  });
});
