import { describe, expect, it } from 'vitest';
import type { Message } from '../api/types';
import { message, page, pending, user } from './chatFixtures';
import {
  MAX_WINDOW,
  applyReaction,
  arrivedSince,
  displayItems,
  isGoneFrom,
  localDay,
  makeNonce,
  messagesActionForEvent,
  messagesReducer,
  needsInitialLoad,
  newestMessageId,
  reactionWouldAdd,
  startsGroup,
  type MessagesAction,
  type MessagesState,
} from './messages';

const ME = 'me';

function run(state: MessagesState, ...actions: MessagesAction[]): MessagesState {
  return actions.reduce(messagesReducer, state);
}

const latest = (messages = page(1, 3), limit = 50): MessagesAction => ({
  type: 'messages.loaded',
  channelId: 'c1',
  messages,
  mode: 'latest',
  limit,
});

const ids = (state: MessagesState, channelId = 'c1') => state[channelId]?.messages.map((m) => m.id);

function event(t: string, d: unknown): MessagesAction {
  const action = messagesActionForEvent(t, d, ME);
  if (!action) throw new Error(`no action for ${t}`);
  return action;
}

describe('loading history', () => {
  it('sorts the newest-first page by id and knows whether more is before it', () => {
    const state = run({}, latest(page(8, 3), 3));
    expect(ids(state)).toEqual(['8', '9', '10']);
    expect(state.c1?.atPresent).toBe(true);
    expect(state.c1?.hasMoreBefore).toBe(true);
    const short = run({}, latest(page(1, 2), 3));
    expect(short.c1?.hasMoreBefore).toBe(false);
  });

  it('prepends older pages and stops when a page is short', () => {
    let state = run({}, latest(page(11, 5), 5));
    state = run(state, { type: 'messages.loaded', channelId: 'c1', messages: page(6, 5), mode: 'before', limit: 5 });
    expect(ids(state)).toEqual(['6', '7', '8', '9', '10', '11', '12', '13', '14', '15']);
    expect(state.c1?.hasMoreBefore).toBe(true);
    state = run(state, { type: 'messages.loaded', channelId: 'c1', messages: page(1, 5).slice(0, 3), mode: 'before', limit: 5 });
    expect(state.c1?.hasMoreBefore).toBe(false);
    expect(ids(state)?.[0]).toBe('3');
    expect(state.c1?.atPresent).toBe(true);
  });

  it('compares ids as numbers, not as text', () => {
    const state = run({}, latest([message('10'), message('9'), message('100')]));
    expect(ids(state)).toEqual(['9', '10', '100']);
  });

  it('drops the newest messages past the window size when scrolling back (no longer at the present)', () => {
    let state = run({}, latest(page(MAX_WINDOW + 1, 50), 50));
    for (let from = MAX_WINDOW - 49; from > 0; from -= 50) {
      state = run(state, { type: 'messages.loaded', channelId: 'c1', messages: page(from, 50), mode: 'before', limit: 50 });
    }
    expect(state.c1?.messages).toHaveLength(MAX_WINDOW);
    expect(ids(state)?.[0]).toBe('1');
    expect(state.c1?.atPresent).toBe(false);
    expect(newestMessageId(state.c1)).toBeNull();
  });

  it('loads newer pages until a short one reaches the present', () => {
    let state = run({}, { type: 'messages.loaded', channelId: 'c1', messages: page(1, 5), mode: 'before', limit: 5 });
    expect(state.c1?.atPresent).toBe(false);
    state = run(state, { type: 'messages.loaded', channelId: 'c1', messages: page(6, 5), mode: 'after', limit: 5 });
    expect(state.c1?.atPresent).toBe(false);
    state = run(state, { type: 'messages.loaded', channelId: 'c1', messages: page(11, 2), mode: 'after', limit: 5 });
    expect(state.c1?.atPresent).toBe(true);
    expect(ids(state)).toHaveLength(12);
  });

  it('replaces the window with a page around an old message', () => {
    let state = run({}, latest(page(100, 50), 50));
    // As the server answers: 24 after the anchor (#35), 26 up to it.
    const around = (messages: Message[], anchor: string) =>
      ({ type: 'messages.loaded', channelId: 'c1', messages, mode: 'around', limit: 50, anchor }) as const;
    state = run(state, around(page(10, 50), '35'));
    expect(ids(state)?.[0]).toBe('10');
    expect(state.c1?.messages).toHaveLength(50);
    expect(state.c1?.atPresent).toBe(false);
    expect(state.c1?.hasMoreBefore).toBe(true);
    // A short channel: both sides came back short.
    state = run(state, around(page(1, 7), '3'));
    expect(state.c1?.atPresent).toBe(true);
    expect(state.c1?.hasMoreBefore).toBe(false);
    // Near the start of a long channel the page is short too, but only before the anchor:
    // what comes after it is still to be loaded.
    state = run(state, around(page(1, 26), '2'));
    expect(state.c1?.hasMoreBefore).toBe(false);
    expect(state.c1?.atPresent).toBe(false);
    // Near the present: the newer side is short.
    state = run(state, around(page(100, 50), '140'));
    expect(state.c1?.atPresent).toBe(true);
    expect(state.c1?.hasMoreBefore).toBe(true);
  });

  it('keeps messages that arrived live after the latest page was answered', () => {
    let state = run({}, latest(page(1, 3)));
    state = run(state, event('message.created', message('5')));
    // The re-fetch was answered before message 5 was committed.
    state = run(state, latest(page(2, 3)));
    expect(ids(state)).toEqual(['2', '3', '4', '5']);
  });

  it('needs an initial load without a window, or after it went stale', () => {
    expect(needsInitialLoad(undefined)).toBe(true);
    let state = run({}, latest());
    expect(needsInitialLoad(state.c1)).toBe(false);
    state = run(state, { type: 'pending.added', pending: pending('n1') }, { type: 'messages.stale', keep: null });
    expect(needsInitialLoad(state.c1)).toBe(true);
    // Unconfirmed messages survive a resync.
    expect(state.c1?.pending.map((p) => p.nonce)).toEqual(['n1']);
  });

  it('keeps the open channel and forgets the others on a resync', () => {
    let state = run({}, latest());
    state = run(state, { type: 'messages.loaded', channelId: 'c2', messages: [message('7', { channel_id: 'c2' })], mode: 'latest', limit: 50 });
    state = run(state, { type: 'messages.stale', keep: 'c2' });
    expect(state.c1).toBeUndefined();
    expect(ids(state, 'c2')).toEqual(['7']);
  });
});

describe('live events', () => {
  it('appends message.created at the present, once', () => {
    let state = run({}, latest());
    state = run(state, event('message.created', message('4')), event('message.created', message('4')));
    expect(ids(state)).toEqual(['1', '2', '3', '4']);
  });

  it('ignores message.created for channels not loaded or windows away from the present', () => {
    expect(run({}, event('message.created', message('4')))).toEqual({});
    const away = run({}, { type: 'messages.loaded', channelId: 'c1', messages: page(1, 5), mode: 'before', limit: 5 });
    expect(run(away, event('message.created', message('40')))).toBe(away);
  });

  it('drops the oldest past the window size as new messages come, and then has more before', () => {
    let state = run({}, latest(page(1, 10), 50));
    expect(state.c1?.hasMoreBefore).toBe(false);
    for (let i = 11; i <= MAX_WINDOW + 1; i++) state = run(state, event('message.created', message(String(i))));
    expect(state.c1?.messages).toHaveLength(MAX_WINDOW);
    expect(ids(state)?.[0]).toBe('2');
    expect(state.c1?.hasMoreBefore).toBe(true);
  });

  it('replaces edited messages and keeps their reactions (events carry none)', () => {
    let state = run({}, latest([message('1', { reactions: [{ emoji: '👍', count: 2, me: true }] })]));
    state = run(state, event('message.updated', { ...message('1'), content: 'edited', edited_at: '2026-01-02T00:00:00Z' }));
    expect(state.c1?.messages[0]?.content).toBe('edited');
    expect(state.c1?.messages[0]?.edited_at).toBe('2026-01-02T00:00:00Z');
    expect(state.c1?.messages[0]?.reactions).toEqual([{ emoji: '👍', count: 2, me: true }]);
  });

  it('does not insert an updated message that is not loaded', () => {
    const state = run({}, latest());
    expect(run(state, event('message.updated', message('99')))).toBe(state);
  });

  it('updates and clears the excerpts of replies', () => {
    const reply = message('2', {
      reply_to: '1',
      referenced_message: { id: '1', author: user('u1'), content: 'original' },
    });
    let state = run({}, latest([reply, message('1')]));
    state = run(state, event('message.updated', { ...message('1'), content: 'changed' }));
    expect(state.c1?.messages[1]?.referenced_message?.content).toBe('changed');
    state = run(state, event('message.deleted', { id: '1', channel_id: 'c1', server_id: 's1' }));
    expect(ids(state)).toEqual(['2']);
    expect(state.c1?.messages[0]?.referenced_message).toBeNull();
    expect(state.c1?.messages[0]?.reply_to).toBe('1');
  });

  it('removes bulk-deleted messages', () => {
    let state = run({}, latest(page(1, 5)));
    state = run(state, event('message.bulk_deleted', { ids: ['2', '4', '77'], channel_id: 'c1', server_id: 's1' }));
    expect(ids(state)).toEqual(['1', '3', '5']);
  });

  it('applies pins from message.updated and from our own toggle', () => {
    let state = run({}, latest());
    state = run(state, { type: 'message.pinned', channelId: 'c1', messageId: '2', pinned: true });
    expect(state.c1?.messages[1]?.pinned).toBe(true);
    state = run(state, event('message.updated', { ...message('2'), pinned: false }));
    expect(state.c1?.messages[1]?.pinned).toBe(false);
  });

  it('forgets a deleted channel', () => {
    const state = run({}, latest());
    expect(run(state, event('channel.deleted', { id: 'c1', server_id: 's1' })).c1).toBeUndefined();
  });

  it('ignores malformed events', () => {
    expect(messagesActionForEvent('message.created', { id: 1 }, ME)).toBeNull();
    expect(messagesActionForEvent('message.deleted', { channel_id: 'c1' }, ME)).toBeNull();
    expect(messagesActionForEvent('reaction.added', { channel_id: 'c1', message_id: '1', user_id: 'u', emoji: '' }, ME)).toBeNull();
    expect(messagesActionForEvent('presence.updated', {}, ME)).toBeNull();
  });
});

describe('reactions', () => {
  const reaction = (t: 'reaction.added' | 'reaction.removed', userId: string, emoji = '👍') =>
    event(t, { channel_id: 'c1', server_id: 's1', message_id: '1', user_id: userId, emoji });

  it('counts other people and marks our own', () => {
    let state = run({}, latest([message('1', { reactions: [] })]));
    state = run(state, reaction('reaction.added', 'u2'), reaction('reaction.added', 'u3'));
    expect(state.c1?.messages[0]?.reactions).toEqual([{ emoji: '👍', count: 2, me: false }]);
    state = run(state, reaction('reaction.added', ME));
    expect(state.c1?.messages[0]?.reactions).toEqual([{ emoji: '👍', count: 3, me: true }]);
    state = run(state, reaction('reaction.removed', ME));
    expect(state.c1?.messages[0]?.reactions).toEqual([{ emoji: '👍', count: 2, me: false }]);
    state = run(state, reaction('reaction.removed', 'u2'), reaction('reaction.removed', 'u3'));
    expect(state.c1?.messages[0]?.reactions).toEqual([]);
  });

  it('does not count our own reaction twice (optimistic toggle, then the event)', () => {
    expect(applyReaction([{ emoji: '🎉', count: 1, me: true }], '🎉', true, true)).toEqual([{ emoji: '🎉', count: 1, me: true }]);
    expect(applyReaction([{ emoji: '🎉', count: 1, me: false }], '🎉', false, true)).toEqual([{ emoji: '🎉', count: 1, me: false }]);
    expect(applyReaction(undefined, '🎉', true, false)).toEqual([{ emoji: '🎉', count: 1, me: false }]);
  });

  it('adds a new emoji after the existing ones', () => {
    const list = applyReaction([{ emoji: '👍', count: 1, me: false }], '❤️', true, true);
    expect(list.map((r) => r.emoji)).toEqual(['👍', '❤️']);
  });

  it('knows whether a toggle adds or removes', () => {
    expect(reactionWouldAdd(message('1', { reactions: [{ emoji: '👍', count: 1, me: true }] }), '👍')).toBe(false);
    expect(reactionWouldAdd(message('1', { reactions: [{ emoji: '👍', count: 1, me: false }] }), '👍')).toBe(true);
    expect(reactionWouldAdd(message('1'), '👍')).toBe(true);
  });
});

describe('pending messages', () => {
  it('turns pending into sent when the answer or the event with the nonce arrives', () => {
    let state = run({}, latest(), { type: 'pending.added', pending: pending('n1') });
    expect(state.c1?.pending).toHaveLength(1);
    const confirmed = message('4', { nonce: 'n1', author: user(ME) });
    state = run(state, { type: 'message.created', message: confirmed, meId: ME });
    expect(state.c1?.pending).toEqual([]);
    expect(ids(state)).toEqual(['1', '2', '3', '4']);
    // The event after the REST answer (or the other way round) changes nothing.
    expect(run(state, event('message.created', confirmed))).toBe(state);
  });

  it('does not let someone else’s message with the same nonce confirm ours', () => {
    let state = run({}, latest(), { type: 'pending.added', pending: pending('n1') });
    state = run(state, event('message.created', message('4', { nonce: 'n1', author: user('u2') })));
    expect(state.c1?.pending).toHaveLength(1);
  });

  it('fails, retries with the same nonce and can be discarded', () => {
    let state = run({}, latest(), { type: 'pending.added', pending: pending('n1') });
    const error = { status: 429, code: 'slowmode', message: 'slow', retryAfter: 5 };
    state = run(state, { type: 'pending.failed', channelId: 'c1', nonce: 'n1', error });
    expect(state.c1?.pending[0]).toMatchObject({ nonce: 'n1', status: 'failed', error });
    state = run(state, { type: 'pending.retrying', channelId: 'c1', nonce: 'n1' });
    expect(state.c1?.pending[0]).toMatchObject({ nonce: 'n1', status: 'pending', error: null });
    state = run(state, { type: 'pending.removed', channelId: 'c1', nonce: 'n1' });
    expect(state.c1?.pending).toEqual([]);
  });

  it('sends a reply whose message was deleted as a plain message', () => {
    const reply = pending('n1', { reply_to: '2', referenced_message: { id: '2', author: user('u1'), content: 'gone soon' } });
    let state = run({}, latest(), { type: 'pending.added', pending: reply }, { type: 'pending.added', pending: pending('n2') });
    const untouched = state.c1?.pending[1];
    state = run(state, event('message.deleted', { id: '2', channel_id: 'c1', server_id: 's1' }));
    expect(state.c1?.pending[0]).toMatchObject({ nonce: 'n1', reply_to: null, referenced_message: null });
    expect(state.c1?.pending[1]).toBe(untouched);
  });

  it('knows a message is gone only within the span its window covers', () => {
    // Messages 1–5 from the channel's start, not up to the present.
    let state = run({}, { type: 'messages.loaded', channelId: 'c1', messages: page(1, 5), mode: 'before', limit: 50 });
    state = run(state, event('message.deleted', { id: '3', channel_id: 'c1', server_id: 's1' }));
    expect(isGoneFrom(state.c1, '3')).toBe(true);
    expect(isGoneFrom(state.c1, '4')).toBe(false);
    expect(isGoneFrom(state.c1, '9')).toBe(false);
    state = run(state, event('message.deleted', { id: '1', channel_id: 'c1', server_id: 's1' }));
    expect(isGoneFrom(state.c1, '1')).toBe(true);
    // Up to the present: a newer id is covered too; with older messages left to load, an
    // id before the oldest is not.
    const present = run({}, latest(page(10, 3), 3));
    expect(isGoneFrom(present.c1, '20')).toBe(true);
    expect(isGoneFrom(present.c1, '5')).toBe(false);
    expect(isGoneFrom(undefined, '1')).toBe(false);
  });

  it('adds a nonce once', () => {
    const state = run({}, latest(), { type: 'pending.added', pending: pending('n1') });
    expect(run(state, { type: 'pending.added', pending: pending('n1') })).toBe(state);
  });

  it('inserts our confirmed message even when the window is away from the present', () => {
    let state = run({}, { type: 'messages.loaded', channelId: 'c1', messages: page(1, 5), mode: 'before', limit: 5 });
    state = run(state, { type: 'pending.added', pending: pending('n1') });
    state = run(state, { type: 'message.created', message: message('50', { nonce: 'n1', author: user(ME) }), meId: ME });
    expect(state.c1?.pending).toEqual([]);
    expect(ids(state)).toContain('50');
  });

  it('makes 32-character hex nonces', () => {
    const nonce = makeNonce();
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(makeNonce()).not.toBe(nonce);
    expect(makeNonce((bytes) => bytes.fill(255))).toBe('f'.repeat(32));
  });
});

describe('display', () => {
  const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 12, minutes)).toISOString();

  it('groups consecutive messages of one author within 7 minutes', () => {
    const a = { authorId: 'u1', createdAt: at(0), isReply: false };
    expect(startsGroup(null, a)).toBe(true);
    expect(startsGroup(a, { ...a, createdAt: at(6) })).toBe(false);
    expect(startsGroup(a, { ...a, createdAt: at(7) })).toBe(true);
    expect(startsGroup(a, { ...a, authorId: 'u2', createdAt: at(1) })).toBe(true);
    expect(startsGroup(a, { ...a, createdAt: at(1), isReply: true })).toBe(true);
    expect(startsGroup(a, { ...a, createdAt: 'not a date' })).toBe(true);
  });

  it('lists messages, then pending ones at the present, with group starts', () => {
    let state = run(
      {},
      latest([message('3', { author: user(ME) }), message('2'), message('1')]),
      { type: 'pending.added', pending: pending('n1', { created_at: message('3').created_at }) },
    );
    const items = displayItems(state.c1!);
    expect(items.map((i) => [i.kind, i.key, 'startsGroup' in i ? i.startsGroup : null])).toEqual([
      ['day', `day:${localDay(message('1').created_at)}`, null],
      ['message', '1', true],
      ['message', '2', false],
      ['message', '3', true],
      ['pending', 'pending:n1', false],
    ]);
    // Away from the present, pending messages are not shown in the middle of old history.
    state = run(state, { type: 'messages.loaded', channelId: 'c1', messages: page(4, 5), mode: 'after', limit: 5 });
    expect(displayItems(state.c1!).some((i) => i.kind === 'pending')).toBe(false);
  });

  it('puts a divider before each day and one before the first unread message of others', () => {
    const day = (d: number, id: string, author = 'u1') =>
      message(id, { author: user(author), created_at: new Date(2026, 0, d, 12, 0, Number(id)).toISOString() });
    const state = run({}, latest([day(3, '5'), day(3, '4', ME), day(2, '3'), day(2, '2'), day(1, '1')]));
    const shape = (after: string | null) =>
      displayItems(state.c1!, { after, meId: ME }).map((i) => (i.kind === 'day' || i.kind === 'new' ? i.kind : `${i.key}${i.startsGroup ? '*' : ''}`));
    expect(shape(null)).toEqual(['day', '1*', 'day', '2*', '3', 'day', '4*', '5*']);
    // Read up to 2: the next message is new; read up to 3: our own 4 is not new, 5 is.
    expect(shape('2')).toEqual(['day', '1*', 'day', '2*', 'new', '3*', 'day', '4*', '5*']);
    expect(shape('3')).toEqual(['day', '1*', 'day', '2*', '3', 'day', '4*', 'new', '5*']);
    expect(shape('5')).toEqual(shape(null));
    // The day dividers are keyed by the local day, so they stay the same rows as pages load.
    expect(displayItems(state.c1!).filter((i) => i.kind === 'day').map((i) => i.key)).toEqual([
      `day:${localDay(new Date(2026, 0, 1, 12).toISOString())}`,
      'day:2026-1-2',
      'day:2026-1-3',
    ]);
    expect(localDay('not a date')).toBeNull();
  });

  it('points the ack at the newest message of a window at the present', () => {
    const state = run({}, latest());
    expect(newestMessageId(state.c1)).toBe('3');
    expect(newestMessageId(undefined)).toBeNull();
  });

  it("counts others' messages that came after the one the user scrolled up from", () => {
    let state = run({}, latest([message('5'), message('4', { author: user(ME) }), message('3'), message('2'), message('1')]));
    // Scrolled up from 2: 3 and 5 came from others, 4 is ours.
    expect(arrivedSince(state.c1!, '2', ME)).toBe(2);
    expect(arrivedSince(state.c1!, '5', ME)).toBe(0);
    expect(arrivedSince(state.c1!, null, ME)).toBe(0);
    // Ids are compared as numbers, not as text.
    state = run(state, event('message.created', message('10')));
    expect(arrivedSince(state.c1!, '5', ME)).toBe(1);
    // Away from the present, what lies below is not "new": the list says it views older ones.
    state = run(state, { type: 'messages.loaded', channelId: 'c1', messages: page(11, 5), mode: 'after', limit: 5 });
    expect(state.c1!.atPresent).toBe(false);
    expect(arrivedSince(state.c1!, '5', ME)).toBe(0);
  });
});
