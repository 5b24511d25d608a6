import { describe, expect, it } from 'vitest';
import type { Channel } from '../api/types';
import { message, user } from './chatFixtures';
import {
  EMPTY_READ_STATES,
  ackTarget,
  channelUnread,
  lastMessageId,
  mentionsReader,
  readStatesActionForEvent,
  readStatesReducer,
  serverUnread,
  type ReadStatesAction,
  type ReadStatesState,
  type Reader,
} from './readStates';

const ME: Reader = { userId: 'me', roleIds: ['r1'] };

/** A `server.created` payload with these channels. */
function serverDetail(channels: Pick<Channel, 'id' | 'kind' | 'last_message_id'>[]) {
  return {
    id: 's1',
    name: 'S',
    description: null,
    icon: null,
    owner_id: 'o',
    created_at: '2026-12-07T00:00:00Z',
    channels: channels.map((c, position) => ({ ...c, server_id: 's1', name: `c${position}`, position, parent_id: null, topic: null, user_limit: null, bitrate: null })),
    roles: [],
    me: { permissions: '0', roles: [] },
  };
}

function run(state: ReadStatesState, ...actions: ReadStatesAction[]): ReadStatesState {
  return actions.reduce(readStatesReducer, state);
}

function channel(id: string, last: string | null, kind: Channel['kind'] = 'text'): Pick<Channel, 'id' | 'kind' | 'last_message_id'> {
  return { id, kind, last_message_id: last };
}

const loaded = (...states: [string, string, number?][]): ReadStatesAction => ({
  type: 'readStates.loaded',
  readStates: states.map(([channel_id, last_read_id, mention_count = 0]) => ({ channel_id, last_read_id, mention_count })),
});

const created = (id: string, fields: Parameters<typeof message>[1] = {}, viewing = false): ReadStatesAction => ({
  type: 'readState.message',
  message: message(id, fields),
  reader: ME,
  viewing,
});

describe('unread channels', () => {
  it('is unread when the channel’s last message is newer than the last read one (compared as numbers)', () => {
    const state = run(EMPTY_READ_STATES, loaded(['c1', '99'], ['c2', '100']));
    expect(channelUnread(state, channel('c1', '100'))).toEqual({ unread: true, mentions: 0 });
    expect(channelUnread(state, channel('c2', '100'))).toEqual({ unread: false, mentions: 0 });
    expect(channelUnread(state, channel('c2', '99'))).toEqual({ unread: false, mentions: 0 });
  });

  it('is read when the channel has no message, and never for voice channels or categories', () => {
    const state = run(EMPTY_READ_STATES, loaded(['c1', '5']));
    expect(channelUnread(state, channel('c1', null)).unread).toBe(false);
    expect(channelUnread(state, channel('v1', '9', 'voice')).unread).toBe(false);
    expect(channelUnread(state, channel('k1', '9', 'category')).unread).toBe(false);
  });

  it('takes the newest message from message.created when it is newer than the channel’s', () => {
    let state = run(EMPTY_READ_STATES, loaded(['c1', '10']));
    state = run(state, created('11', { author: user('u2') }));
    expect(lastMessageId(state, channel('c1', '10'))).toBe('11');
    expect(lastMessageId(state, channel('c1', '12'))).toBe('12');
    expect(channelUnread(state, channel('c1', '10')).unread).toBe(true);
  });

  it('is read again after our ack, and stays read when an older read_state.updated arrives late', () => {
    let state = run(EMPTY_READ_STATES, loaded(['c1', '10', 2]), created('12', { author: user('u2') }));
    state = run(state, { type: 'readState.acked', channelId: 'c1', messageId: '12' });
    expect(channelUnread(state, channel('c1', '12'))).toEqual({ unread: false, mentions: 0 });
    const late = run(state, { type: 'readState.updated', readState: { channel_id: 'c1', last_read_id: '11', mention_count: 1 } });
    expect(late).toBe(state);
  });

  it('takes read_state.updated from another session', () => {
    let state = run(EMPTY_READ_STATES, loaded(['c1', '10', 3]));
    const action = readStatesActionForEvent('read_state.updated', { channel_id: 'c1', last_read_id: '20', mention_count: 0 });
    expect(action).not.toBeNull();
    state = run(state, action!);
    expect(state.byChannel.c1).toEqual({ channel_id: 'c1', last_read_id: '20', mention_count: 0 });
    expect(readStatesActionForEvent('read_state.updated', { channel_id: 'c1' })).toBeNull();
  });

  it('shows nothing as unread before the read states arrive (no gateway yet)', () => {
    expect(channelUnread(EMPTY_READ_STATES, channel('c1', '100'))).toEqual({ unread: false, mentions: 0 });
    expect(channelUnread(run(EMPTY_READ_STATES, loaded()), channel('c1', '100')).unread).toBe(true);
  });

  it('counts a channel never acknowledged with a new message as unread', () => {
    const state = run(EMPTY_READ_STATES, loaded(), created('5', { author: user('u2') }));
    expect(channelUnread(state, channel('c1', null)).unread).toBe(true);
  });

  it('reads a joined server’s earlier messages as read, as the server does', () => {
    const state = run(EMPTY_READ_STATES, loaded(['c1', '10']));
    const joined = readStatesActionForEvent('server.created', serverDetail([channel('c1', '12'), channel('c2', '30'), channel('c3', null)]));
    expect(joined).not.toBeNull();
    const after = run(state, joined!, created('31', { author: user('u2'), channel_id: 'c2' }));
    // A channel we had a read state for keeps it; the new ones are read up to now.
    expect(channelUnread(after, channel('c1', '12')).unread).toBe(true);
    expect(after.byChannel.c2?.last_read_id).toBe('30');
    expect(channelUnread(after, channel('c3', null)).unread).toBe(false);
    // What comes after the join is unread.
    expect(channelUnread(after, channel('c2', '30')).unread).toBe(true);
    expect(readStatesActionForEvent('server.created', { id: 's1' })).toBeNull();
  });

  it('treats our own messages and the channel being looked at as read', () => {
    let state = run(EMPTY_READ_STATES, loaded(['c1', '10']));
    state = run(state, created('11', { author: user('me') }));
    expect(channelUnread(state, channel('c1', '11')).unread).toBe(false);
    state = run(state, created('12', { author: user('u2'), mentions: ['me'] }, true));
    expect(channelUnread(state, channel('c1', '12'))).toEqual({ unread: false, mentions: 0 });
  });
});

describe('mentions', () => {
  it('recognises direct, role and @everyone mentions', () => {
    expect(mentionsReader(message('1', { mentions: ['me'] }), ME)).toBe(true);
    expect(mentionsReader(message('1', { mention_roles: ['r2', 'r1'] }), ME)).toBe(true);
    expect(mentionsReader(message('1', { mention_everyone: true }), ME)).toBe(true);
    expect(mentionsReader(message('1', { mentions: ['u9'], mention_roles: ['r2'] }), ME)).toBe(false);
  });

  it('increments mention_count in channels we are not looking at', () => {
    let state = run(EMPTY_READ_STATES, loaded(['c1', '10', 1]));
    state = run(
      state,
      created('11', { author: user('u2'), mentions: ['me'] }),
      created('12', { author: user('u2'), mention_roles: ['r1'] }),
      created('13', { author: user('u2'), mention_everyone: true }),
      created('14', { author: user('u2') }),
    );
    expect(channelUnread(state, channel('c1', '14'))).toEqual({ unread: true, mentions: 4 });
  });

  it('does not count mentions by ourselves, in the channel looked at, or in already-read messages', () => {
    let state = run(EMPTY_READ_STATES, loaded(['c1', '10']));
    state = run(state, created('11', { author: user('me'), mentions: ['me'] }));
    state = run(state, created('12', { author: user('u2'), mentions: ['me'] }, true));
    state = run(state, created('9', { author: user('u2'), mentions: ['me'] }));
    expect(state.byChannel.c1?.mention_count).toBe(0);
  });

  it('clears mention_count on ack', () => {
    let state = run(EMPTY_READ_STATES, loaded(['c1', '10', 3]));
    state = run(state, { type: 'readState.acked', channelId: 'c1', messageId: '10' });
    expect(state.byChannel.c1?.mention_count).toBe(0);
  });

  it('sums a server’s channels: unread if any is, mentions added up', () => {
    const state = run(EMPTY_READ_STATES, loaded(['c1', '10', 2], ['c2', '20', 1], ['c3', '30']));
    const server = { channels: [channel('c1', '10'), channel('c2', '21'), channel('c3', '30'), channel('v', '99', 'voice')] };
    expect(serverUnread(state, server)).toEqual({ unread: true, mentions: 3 });
    expect(serverUnread(state, { channels: [channel('c3', '30')] })).toEqual({ unread: false, mentions: 0 });
  });
});

describe('acknowledging', () => {
  it('acks the newest message while looking at the channel, once the server is behind', () => {
    const state = run(EMPTY_READ_STATES, loaded(['c1', '10']));
    expect(ackTarget(state, 'c1', '12', true)).toBe('12');
    expect(ackTarget(state, 'c1', '12', false)).toBeNull();
    expect(ackTarget(state, 'c1', '10', true)).toBeNull();
    expect(ackTarget(state, 'c1', null, true)).toBeNull();
    expect(ackTarget(EMPTY_READ_STATES, 'c9', '1', true)).toBe('1');
  });

  it('still acks messages that count as read locally (our own, or seen while looking)', () => {
    let state = run(EMPTY_READ_STATES, loaded(['c1', '10']));
    state = run(state, created('11', { author: user('me') }), created('12', { author: user('u2') }, true));
    expect(channelUnread(state, channel('c1', '12')).unread).toBe(false);
    expect(ackTarget(state, 'c1', '12', true)).toBe('12');
    state = run(state, { type: 'readState.acked', channelId: 'c1', messageId: '12' });
    expect(ackTarget(state, 'c1', '12', true)).toBeNull();
  });

  it('acks to clear remaining mentions', () => {
    const state = run(EMPTY_READ_STATES, loaded(['c1', '10', 1]));
    expect(ackTarget(state, 'c1', '10', true)).toBe('10');
  });
});
