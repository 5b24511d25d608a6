import { describe, expect, it, vi } from 'vitest';
import type { ServerDetail } from '../api/types';
import { ApiError } from '../api/errors';
import type { MessagesApi } from '../api/messages';
import { GatewaySendLost } from '../gateway/sends';
import { createChatActions, type ChatActionsDeps } from './chatActions';
import { message, page, user } from './chatFixtures';
import { ChatStore } from './chatStore';
import { channelUnread } from './readStates';
import { typingUsers } from './typing';

const ME = user('me', { display_name: 'Me' });

function server(fields: Partial<ServerDetail> = {}): ServerDetail {
  return {
    id: 's1',
    name: 'S',
    description: null,
    icon: null,
    owner_id: 'u1',
    created_at: '',
    channels: [],
    roles: [],
    me: { permissions: '0', roles: ['r1'], timeout_until: null },
    large: false,
    ...fields,
  };
}

function fakeApi(overrides: Partial<MessagesApi> = {}): MessagesApi {
  const fail = () => Promise.reject(new Error('not stubbed'));
  return {
    list: vi.fn(async () => page(1, 3)),
    get: vi.fn(fail),
    send: vi.fn(fail),
    edit: vi.fn(fail),
    remove: vi.fn(async () => undefined),
    bulkDelete: vi.fn(async () => undefined),
    addReaction: vi.fn(async () => undefined),
    removeReaction: vi.fn(async () => undefined),
    pins: vi.fn(async () => []),
    pin: vi.fn(async () => undefined),
    unpin: vi.fn(async () => undefined),
    ack: vi.fn(async () => undefined),
    readStates: vi.fn(async () => []),
    ...overrides,
  };
}

function setup(api = fakeApi(), now = () => 1_000, gateway?: ChatActionsDeps['gateway']) {
  const store = new ChatStore(now);
  const detach = store.attach(() => ({ user: ME, servers: [server()] }));
  const log = { warn: vi.fn() };
  let n = 0;
  const actions = createChatActions(store, { api, nonce: () => `nonce${++n}`, now, log, ...(gateway ? { gateway } : {}) });
  return { store, actions, api, detach, log };
}

const channel = { id: 'c1', kind: 'text' as const, last_message_id: null };

describe('chat store: gateway events', () => {
  it('routes message.created to the window, the read state, typing and the directory', async () => {
    const { store, actions } = setup();
    store.ready([]);
    await actions.loadLatest('c1');
    store.handleEvent('typing.started', { channel_id: 'c1', server_id: 's1', user_id: 'u2' });
    expect(typingUsers(store.getState().typing, 'c1', 1_000, 'me')).toEqual(['u2']);
    store.handleEvent('message.created', message('4', { author: user('u2'), mention_roles: ['r1'] }));
    const state = store.getState();
    expect(state.messages.c1?.messages.map((m) => m.id)).toEqual(['1', '2', '3', '4']);
    expect(channelUnread(state.readStates, channel)).toEqual({ unread: true, mentions: 1 });
    expect(typingUsers(state.typing, 'c1', 1_000, 'me')).toEqual([]);
    expect(state.directory.users.u2?.username).toBe('useru2');
  });

  it('does not count mentions in the channel being looked at', () => {
    const { store } = setup();
    store.ready([]);
    store.setViewing('c1');
    store.handleEvent('message.created', message('4', { author: user('u2'), mentions: ['me'] }));
    expect(channelUnread(store.getState().readStates, channel)).toEqual({ unread: false, mentions: 0 });
  });

  it('uses a member.updated about me for my roles', () => {
    const { store } = setup();
    expect(store.rolesIn('s1')).toEqual(['r1']);
    store.handleEvent('member.updated', {
      server_id: 's1',
      user: ME,
      nickname: null,
      roles: ['r2'],
      joined_at: '',
      timeout_until: null,
    });
    expect(store.rolesIn('s1')).toEqual(['r2']);
  });

  it('takes read states from ready and bumps the pins version on channel.pins_updated', () => {
    const { store } = setup();
    store.ready([{ channel_id: 'c1', last_read_id: '5', mention_count: 2 }]);
    expect(store.getState().readStates.byChannel.c1?.mention_count).toBe(2);
    store.handleEvent('channel.pins_updated', { channel_id: 'c1', server_id: 's1' });
    store.handleEvent('channel.pins_updated', { channel_id: 'c1', server_id: 's1' });
    expect(store.getState().pinsVersion.c1).toBe(2);
    // A pinned message edited or any message deleted: an open pins panel reloads.
    store.handleEvent('message.updated', { ...message('9', { channel_id: 'c1' }), pinned: true });
    store.handleEvent('message.deleted', { id: '9', channel_id: 'c1', server_id: 's1' });
    store.handleEvent('message.bulk_deleted', { ids: ['7', '8'], channel_id: 'c1', server_id: 's1' });
    expect(store.getState().pinsVersion.c1).toBe(5);
    store.handleEvent('message.updated', { ...message('10', { channel_id: 'c1' }), pinned: false });
    expect(store.getState().pinsVersion.c1, 'an unpinned message edited changes no pin').toBe(5);
  });

  it('asks the server for a mention count it cannot keep itself: a deletion, an edit that mentions', async () => {
    const readStates = vi.fn(async () => [{ channel_id: 'c1', last_read_id: '5', mention_count: 1 }]);
    const { store, actions } = setup(fakeApi({ readStates }));
    store.ready([
      { channel_id: 'c1', last_read_id: '5', mention_count: 2 },
      { channel_id: 'c2', last_read_id: '5', mention_count: 0 },
    ]);
    expect(store.mentionCountStale('message.deleted', { id: '9', channel_id: 'c1', server_id: 's1' })).toBe('c1');
    expect(store.mentionCountStale('message.deleted', { id: '9', channel_id: 'c2', server_id: 's1' }), 'nothing to lose').toBeNull();
    const edited = message('8', { channel_id: 'c2', author: user('u2'), mentions: [ME.id] });
    expect(store.mentionCountStale('message.updated', edited)).toBe('c2');
    expect(store.mentionCountStale('message.updated', { ...edited, mentions: [] })).toBeNull();
    expect(store.mentionCountStale('message.updated', { ...edited, author: ME }), 'one’s own').toBeNull();
    await actions.refreshMentionCounts(['c1']);
    expect(store.getState().readStates.byChannel.c1?.mention_count).toBe(1);
  });

  it('notifies subscribers only when something changed, and forgets everything on detach', () => {
    const { store, detach } = setup();
    const listener = vi.fn();
    store.subscribe(listener);
    store.handleEvent('presence.updated', { user_id: 'u2', status: 'online' });
    expect(listener).not.toHaveBeenCalled();
    store.ready([{ channel_id: 'c1', last_read_id: '5', mention_count: 0 }]);
    expect(listener).toHaveBeenCalledTimes(1);
    detach();
    expect(store.getState().readStates.byChannel).toEqual({});
    expect(store.me()).toBeNull();
  });
});

describe('chat actions', () => {
  it('sends optimistically with a nonce and confirms with the answer', async () => {
    const send = vi.fn(async (_c: string, input: { content: string; nonce?: string }) =>
      message('4', { content: input.content, nonce: input.nonce ?? null, author: ME }),
    );
    const { store, actions } = setup(fakeApi({ send }));
    await actions.loadLatest('c1');
    const outcome = actions.send({ channelId: 'c1', serverId: 's1', content: 'hi', replyTo: null });
    expect(store.getState().messages.c1?.pending.map((p) => [p.nonce, p.status])).toEqual([['nonce1', 'pending']]);
    expect(await outcome).toMatchObject({ ok: true });
    expect(send).toHaveBeenCalledWith('c1', { content: 'hi', nonce: 'nonce1' });
    expect(store.getState().messages.c1?.pending).toEqual([]);
    expect(store.getState().messages.c1?.messages.at(-1)?.content).toBe('hi');
  });

  it('marks a refused message failed with retry_after, and retries with the same nonce', async () => {
    const send = vi
      .fn()
      .mockRejectedValueOnce(new ApiError({ status: 429, code: 'slowmode', message: 'slow', retryAfter: 7 }))
      .mockImplementationOnce(async (_c: string, input: { nonce: string }) =>
        message('9', { nonce: input.nonce, author: ME }),
      );
    const { store, actions } = setup(fakeApi({ send }));
    await actions.loadLatest('c1');
    const reply = message('2');
    const outcome = await actions.send({ channelId: 'c1', serverId: 's1', content: 'hi', replyTo: reply });
    expect(outcome).toEqual({ ok: false, error: { status: 429, code: 'slowmode', message: 'slow', retryAfter: 7 } });
    expect(store.getState().messages.c1?.pending[0]).toMatchObject({ status: 'failed', reply_to: '2' });
    expect(await actions.retry('c1', 'nonce1')).toMatchObject({ ok: true });
    expect(send).toHaveBeenLastCalledWith('c1', { content: 'hi', nonce: 'nonce1', reply_to: '2' });
    expect(store.getState().messages.c1?.pending).toEqual([]);
    expect(actions.retry('c1', 'nonce1')).toBeNull();
  });

  it('sends again, in order, what could not reach the server, and leaves refusals failed', async () => {
    const offline = new ApiError({ status: 0, code: 'network_error', message: 'offline' });
    const refused = new ApiError({ status: 422, code: 'validation_failed', message: 'no' });
    let id = 30;
    const send = vi
      .fn()
      .mockRejectedValueOnce(offline)
      .mockRejectedValueOnce(refused)
      .mockRejectedValueOnce(offline)
      .mockImplementation(async (_c: string, input: { content: string; nonce: string }) =>
        message(String(++id), { content: input.content, nonce: input.nonce, author: ME }),
      );
    const { store, actions } = setup(fakeApi({ send }));
    await actions.loadLatest('c1');
    for (const content of ['um', 'dois', 'três']) await actions.send({ channelId: 'c1', serverId: 's1', content, replyTo: null });
    expect(store.getState().messages.c1?.pending.map((p) => p.status)).toEqual(['failed', 'failed', 'failed']);
    await actions.resendUnreached();
    expect(send.mock.calls.slice(3).map((c) => (c[1] as { content: string }).content)).toEqual(['um', 'três']);
    expect(store.getState().messages.c1?.messages.slice(-2).map((m) => m.content)).toEqual(['um', 'três']);
    expect(store.getState().messages.c1?.pending.map((p) => p.content)).toEqual(['dois']);
  });

  it('sends over the gateway when it is connected, and over REST when it is not or its socket goes away', async () => {
    let restId = 20;
    const send = vi.fn(async (_c: string, input: { content: string; nonce?: string }) =>
      message(String(++restId), { content: input.content, nonce: input.nonce ?? null, author: ME }),
    );
    const sendMessage = vi
      .fn()
      .mockImplementationOnce(async (d: { content: string; nonce: string }) =>
        message('7', { content: d.content, nonce: d.nonce, author: ME }),
      )
      .mockImplementationOnce(() => null)
      .mockImplementationOnce(() => Promise.reject(new GatewaySendLost('closed 1006')))
      .mockImplementationOnce(() =>
        Promise.reject(new ApiError({ status: 403, code: 'forbidden', message: 'no' })),
      );
    const { store, actions, log } = setup(fakeApi({ send }), () => 1_000, { sendMessage });
    await actions.loadLatest('c1');
    expect(await actions.send({ channelId: 'c1', serverId: 's1', content: 'a', replyTo: null })).toMatchObject({
      ok: true,
      message: { id: '7' },
    });
    expect(sendMessage).toHaveBeenLastCalledWith({ channel_id: 'c1', content: 'a', nonce: 'nonce1' });
    expect(send).not.toHaveBeenCalled();
    // Not connected: REST.
    await actions.send({ channelId: 'c1', serverId: 's1', content: 'b', replyTo: message('2') });
    expect(send).toHaveBeenLastCalledWith('c1', { content: 'b', nonce: 'nonce2', reply_to: '2' });
    // Lost on the way: REST again with the same nonce.
    expect(await actions.send({ channelId: 'c1', serverId: 's1', content: 'c', replyTo: null })).toMatchObject({ ok: true });
    expect(send).toHaveBeenLastCalledWith('c1', { content: 'c', nonce: 'nonce3' });
    expect(log.warn).toHaveBeenCalledTimes(1);
    // Refused by the server: failed, not sent again over REST.
    const refused = await actions.send({ channelId: 'c1', serverId: 's1', content: 'd', replyTo: null });
    expect(refused).toEqual({ ok: false, error: { status: 403, code: 'forbidden', message: 'no', retryAfter: null } });
    expect(send).toHaveBeenCalledTimes(2);
    expect(store.getState().messages.c1?.pending.map((p) => [p.nonce, p.status])).toEqual([['nonce4', 'failed']]);
    expect(store.getState().messages.c1?.messages.map((m) => [m.id, m.content]).slice(-3)).toEqual([
      ['7', 'a'],
      ['21', 'b'],
      ['22', 'c'],
    ]);
  });

  it('sends a channel\'s messages over REST one after the other, in order, even when one fails', async () => {
    // Each REST call stays open until let go, as a stalled server keeps them.
    const calls: { content: string; release(ok: boolean): void }[] = [];
    const send = vi.fn(
      (_c: string, input: { content: string; nonce?: string }) =>
        new Promise<ReturnType<typeof message>>((resolve, reject) => {
          calls.push({
            content: input.content,
            release: (ok) =>
              ok
                ? resolve(message(String(30 + calls.length), { content: input.content, nonce: input.nonce ?? null, author: ME }))
                : reject(new ApiError({ status: 500, code: 'internal_error', message: 'x' })),
          });
        }),
    );
    const { actions } = setup(fakeApi({ send }));
    await actions.loadLatest('c1');
    const sent = ['F1', 'F2', 'F3'].map((content) => actions.send({ channelId: 'c1', serverId: 's1', content, replyTo: null }));
    const flush = () => new Promise((r) => setTimeout(r, 0));
    await flush();
    // Only the first is on its way; the next goes once it is answered (even by an error).
    expect(calls.map((c) => c.content)).toEqual(['F1']);
    calls[0]?.release(false);
    await flush();
    expect(calls.map((c) => c.content)).toEqual(['F1', 'F2']);
    calls[1]?.release(true);
    await flush();
    expect(calls.map((c) => c.content)).toEqual(['F1', 'F2', 'F3']);
    calls[2]?.release(true);
    expect((await Promise.all(sent)).map((o) => o.ok)).toEqual([false, true, true]);
  });

  it('loads older pages before the oldest message, and not when there is nothing more', async () => {
    const list = vi.fn(async (_c: string, query?: { before?: string }) => (query?.before ? page(1, 2) : page(3, 50)));
    const { store, actions } = setup(fakeApi({ list }));
    await actions.loadLatest('c1');
    await actions.loadOlder('c1');
    expect(list).toHaveBeenLastCalledWith('c1', { before: '3', limit: 50 });
    expect(store.getState().messages.c1?.hasMoreBefore).toBe(false);
    await actions.loadOlder('c1');
    expect(list).toHaveBeenCalledTimes(2);
  });

  it('shares one request between concurrent loads of the same page', async () => {
    const { actions, api } = setup();
    await Promise.all([actions.loadLatest('c1'), actions.loadLatest('c1')]);
    expect(api.list).toHaveBeenCalledTimes(1);
  });

  it('toggles reactions optimistically and reverts on failure', async () => {
    const addReaction = vi.fn().mockRejectedValueOnce(new ApiError({ status: 403, code: 'forbidden', message: '' }));
    const { store, actions } = setup(fakeApi({ addReaction, list: vi.fn(async () => [message('1', { reactions: [] })]) }));
    await actions.loadLatest('c1');
    const target = store.getState().messages.c1!.messages[0]!;
    await expect(actions.toggleReaction(target, '👍')).rejects.toThrow();
    expect(store.getState().messages.c1?.messages[0]?.reactions).toEqual([]);
    await actions.toggleReaction(target, '👍');
    expect(store.getState().messages.c1?.messages[0]?.reactions).toEqual([{ emoji: '👍', count: 1, me: true }]);
    await actions.toggleReaction(store.getState().messages.c1!.messages[0]!, '👍');
    expect(store.getState().messages.c1?.messages[0]?.reactions).toEqual([]);
  });

  it('pins optimistically, reverts on 409 too_many_pins', async () => {
    const pin = vi.fn().mockRejectedValueOnce(new ApiError({ status: 409, code: 'too_many_pins', message: '' }));
    const { store, actions } = setup(fakeApi({ pin }));
    await actions.loadLatest('c1');
    const target = store.getState().messages.c1!.messages[0]!;
    await expect(actions.setPinned(target, true)).rejects.toMatchObject({ code: 'too_many_pins' });
    expect(store.getState().messages.c1?.messages[0]?.pinned).toBe(false);
    await actions.setPinned(target, true);
    expect(store.getState().messages.c1?.messages[0]?.pinned).toBe(true);
    expect(store.getState().pinsVersion.c1).toBe(1);
  });

  it('deletes (a message already gone counts as deleted) and acks locally at once', async () => {
    const remove = vi.fn().mockRejectedValueOnce(new ApiError({ status: 404, code: 'not_found', message: '' }));
    const { store, actions, api } = setup(fakeApi({ remove }));
    await actions.loadLatest('c1');
    await actions.remove({ id: '2', channel_id: 'c1' });
    expect(store.getState().messages.c1?.messages.map((m) => m.id)).toEqual(['1', '3']);
    const ack = actions.ack('c1', '3');
    expect(store.getState().readStates.byChannel.c1?.last_read_id).toBe('3');
    await ack;
    expect(api.ack).toHaveBeenCalledWith('c1', '3');
  });

  it('looks up an unknown mention once: member, else user, else missing', async () => {
    const store = new ChatStore();
    store.attach(() => ({ user: ME, servers: [] }));
    const getMember = vi.fn().mockRejectedValue(new ApiError({ status: 404, code: 'not_found', message: '' }));
    const getUser = vi.fn().mockResolvedValueOnce(user('u5', { display_name: 'Five' })).mockRejectedValue(new Error('x'));
    const actions = createChatActions(store, { api: fakeApi(), getMember, getUser, log: { warn: vi.fn() } });
    await Promise.all([actions.lookupMember('s1', 'u5'), actions.lookupMember('s1', 'u5')]);
    expect(getMember).toHaveBeenCalledTimes(1);
    expect(store.getState().directory.users.u5?.display_name).toBe('Five');
    await actions.lookupMember('s1', 'u6');
    expect(store.getState().directory.missing['s1:u6']).toBe(true);
  });

  it('reloads the open channel after a resync and forgets the others', async () => {
    const { store, actions, api } = setup();
    await actions.loadLatest('c1');
    await actions.loadLatest('c2');
    store.setOpenChannel('c2');
    actions.resync();
    expect(store.getState().messages.c1).toBeUndefined();
    await vi.waitFor(() => expect(api.list).toHaveBeenCalledTimes(3));
    expect(api.list).toHaveBeenLastCalledWith('c2', { limit: 50 });
  });
});
