import { describe, expect, it } from 'vitest';
import type { Member, Role } from '../api/types';
import type { Presence } from '../gateway/protocol';
import { MemberStore } from './memberStore';
import {
  groupMembers,
  memberActionForEvent,
  memberDisplayName,
  membersReducer,
  observedStatus,
  withListedPresences,
  type MemberAction,
  type MembersState,
} from './members';

function member(id: string, fields: Partial<Member> = {}, user: Partial<Member['user']> = {}): Member {
  return {
    server_id: 's',
    user: {
      id,
      username: `user${id}`,
      display_name: null,
      bio: null,
      pronouns: null,
      accent_color: null,
      avatar: null,
      banner: null,
      created_at: '',
      ...user,
    },
    nickname: null,
    roles: [],
    joined_at: '',
    timeout_until: null,
    ...fields,
  };
}

function role(id: string, position: number, hoist: boolean): Role {
  return { id, server_id: 's', name: id, color: null, position, permissions: '0', hoist, mentionable: false };
}

const run = (actions: MemberAction[], start: MembersState = {}) => actions.reduce(membersReducer, start);
const ids = (state: MembersState, server = 's') => Object.keys(state[server]?.members ?? {}).sort();

describe('membersReducer', () => {
  it('loads pages into a ready list', () => {
    const state = run([
      { type: 'members.loading', server_id: 's' },
      { type: 'members.page', server_id: 's', members: [member('1'), member('2')] },
      { type: 'members.page', server_id: 's', members: [member('3')] },
      { type: 'members.loaded', server_id: 's', complete: true },
    ]);
    expect(state.s?.status).toBe('ready');
    expect(state.s?.complete).toBe(true);
    expect(ids(state)).toEqual(['1', '2', '3']);
  });

  it('keeps event changes made while loading over older page copies', () => {
    const state = run([
      { type: 'members.loading', server_id: 's' },
      { type: 'member.upsert', member: member('1', { nickname: 'new' }) },
      { type: 'member.removed', server_id: 's', user_id: '2' },
      // This page was computed before the events.
      { type: 'members.page', server_id: 's', members: [member('1', { nickname: 'old' }), member('2'), member('3')] },
      { type: 'members.loaded', server_id: 's', complete: true },
    ]);
    expect(ids(state)).toEqual(['1', '3']);
    expect(state.s?.members['1']?.nickname).toBe('new');
    expect(state.s?.live).toEqual({});
  });

  it('applies joins, updates and removals to a ready list', () => {
    let state = run([
      { type: 'members.loading', server_id: 's' },
      { type: 'members.page', server_id: 's', members: [member('1')] },
      { type: 'members.loaded', server_id: 's', complete: true },
    ]);
    state = run(
      [
        { type: 'member.upsert', member: member('2') },
        { type: 'member.upsert', member: member('1', { roles: ['r'] }) },
        { type: 'member.removed', server_id: 's', user_id: '2' },
      ],
      state,
    );
    expect(ids(state)).toEqual(['1']);
    expect(state.s?.members['1']?.roles).toEqual(['r']);
  });

  it('ignores events for lists never loaded, and unknown removals', () => {
    const empty: MembersState = {};
    expect(membersReducer(empty, { type: 'member.upsert', member: member('1') })).toBe(empty);
    const ready = run([
      { type: 'members.loading', server_id: 's' },
      { type: 'members.loaded', server_id: 's', complete: true },
    ]);
    expect(membersReducer(ready, { type: 'member.removed', server_id: 's', user_id: 'x' })).toBe(ready);
  });

  it('drops a deleted role from every member, and a gone server’s list', () => {
    let state = run([
      { type: 'members.loading', server_id: 's' },
      { type: 'members.page', server_id: 's', members: [member('1', { roles: ['r', 'q'] }), member('2')] },
      { type: 'members.loaded', server_id: 's', complete: true },
      { type: 'role.deleted', server_id: 's', id: 'r' },
    ]);
    expect(state.s?.members['1']?.roles).toEqual(['q']);
    state = membersReducer(state, { type: 'server.gone', server_id: 's' });
    expect(state.s).toBeUndefined();
  });

  it('records failures, and ignores pages of a list no longer loading', () => {
    let state = run([
      { type: 'members.loading', server_id: 's' },
      { type: 'members.failed', server_id: 's', error: new Error('x') },
    ]);
    expect(state.s?.status).toBe('error');
    state = membersReducer(state, { type: 'members.page', server_id: 's', members: [member('1')] });
    expect(ids(state)).toEqual([]);
  });
});

describe('memberActionForEvent', () => {
  it('maps member events and drops malformed ones', () => {
    const d = { server_id: 's', user: { id: '1', username: 'ana' }, nickname: null, roles: [], joined_at: '', timeout_until: null };
    expect(memberActionForEvent('member.joined', d)).toMatchObject({ type: 'member.upsert', member: { server_id: 's' } });
    expect(memberActionForEvent('member.updated', d)?.type).toBe('member.upsert');
    expect(memberActionForEvent('member.joined', { ...d, server_id: undefined })).toBeNull();
    expect(memberActionForEvent('member.joined', { user: {} })).toBeNull();
    expect(memberActionForEvent('member.removed', { server_id: 's', user_id: '1' })).toEqual({
      type: 'member.removed',
      server_id: 's',
      user_id: '1',
    });
    expect(memberActionForEvent('member.removed', { server_id: 's' })).toBeNull();
    expect(memberActionForEvent('server.deleted', { id: 's' })).toEqual({ type: 'server.gone', server_id: 's' });
    expect(memberActionForEvent('message.created', {})).toBeNull();
  });
});

describe('display', () => {
  it('prefers nickname, then display name, then username', () => {
    expect(memberDisplayName(member('1', { nickname: 'Nick' }, { display_name: 'Disp' }))).toBe('Nick');
    expect(memberDisplayName(member('1', { nickname: '  ' }, { display_name: 'Disp' }))).toBe('Disp');
    expect(memberDisplayName(member('1'))).toBe('user1');
  });

  it('sees unknown and invisible as offline', () => {
    const presences: Record<string, Presence> = {
      a: { user_id: 'a', status: 'invisible', custom_status: null },
      b: { user_id: 'b', status: 'dnd', custom_status: null },
    };
    expect(observedStatus(presences, 'a')).toBe('offline');
    expect(observedStatus(presences, 'b')).toBe('dnd');
    expect(observedStatus(presences, 'c')).toBe('offline');
  });
});

describe('groupMembers', () => {
  const roles = [role('s', 0, false), role('admins', 3, true), role('mods', 2, true), role('fans', 1, false)];
  const online = (...userIds: string[]): Record<string, Presence> =>
    Object.fromEntries(userIds.map((id) => [id, { user_id: id, status: 'online', custom_status: null }]));

  it('groups online members by highest hoisted role, then Online, then Offline', () => {
    const members = [
      member('1', { roles: ['mods', 'admins'] }, { username: 'zed' }),
      member('2', { roles: ['mods'] }, { username: 'bob' }),
      member('3', { roles: ['mods'] }, { username: 'amy' }),
      member('4', { roles: ['fans'] }, { username: 'carl' }),
      member('5', {}, { username: 'dan' }),
      member('6', { roles: ['admins'] }, { username: 'eve' }),
    ];
    const groups = groupMembers(members, roles, online('1', '2', '3', '4'));
    expect(groups.map((g) => [g.key, g.members.map(memberDisplayName)])).toEqual([
      ['admins', ['zed']],
      ['mods', ['amy', 'bob']],
      ['online', ['carl']],
      ['offline', ['dan', 'eve']],
    ]);
    expect(groups[0]?.role?.id).toBe('admins');
  });

  it('sorts names case-insensitively, numbers naturally, and leaves out empty groups', () => {
    const members = [member('1', {}, { username: 'b10' }), member('2', {}, { username: 'B2' }), member('3', {}, { username: 'a' })];
    const groups = groupMembers(members, roles, online('1', '2', '3'));
    expect(groups.map((g) => g.key)).toEqual(['online']);
    expect(groups[0]?.members.map(memberDisplayName)).toEqual(['a', 'B2', 'b10']);
    expect(groupMembers([], roles, {})).toEqual([]);
  });
});

describe('presence from the member list', () => {
  const presence = (id: string, status: Presence['status']): Presence => ({ user_id: id, status, custom_status: null });

  it('fills in members the gateway said nothing about, and live presence wins', () => {
    const known = { '1': presence('1', 'idle') };
    const members = [
      member('1', { presence: presence('1', 'offline') }),
      member('2', { presence: presence('2', 'dnd') }),
      member('3'),
    ];
    const shown = withListedPresences(known, members);
    expect(observedStatus(shown, '1')).toBe('idle');
    expect(observedStatus(shown, '2')).toBe('dnd');
    expect(observedStatus(shown, '3')).toBe('offline');
    expect(withListedPresences(known, [member('3')])).toBe(known);
  });

  it('keeps the listed presence when an event updates the member', () => {
    const loaded = run([
      { type: 'members.loading', server_id: 's' },
      { type: 'members.page', server_id: 's', members: [member('2', { presence: presence('2', 'online') })] },
      { type: 'members.loaded', server_id: 's', complete: true },
      { type: 'member.upsert', member: member('2', { nickname: 'Bo' }) },
    ]);
    expect(loaded.s?.members['2']?.nickname).toBe('Bo');
    expect(loaded.s?.members['2']?.presence?.status).toBe('online');
  });
});

describe('MemberStore', () => {
  function deferred() {
    let resolve!: (value: { complete: boolean }) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<{ complete: boolean }>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  }

  function setup() {
    const calls: { serverId: string; onPage: (m: Member[]) => void; signal: AbortSignal; done: ReturnType<typeof deferred> }[] = [];
    const store = new MemberStore((serverId, onPage, signal) => {
      const done = deferred();
      calls.push({ serverId, onPage, signal, done });
      return done.promise;
    });
    let notified = 0;
    store.subscribe(() => notified++);
    return { store, calls, notified: () => notified };
  }

  const flush = () => new Promise((r) => setTimeout(r, 0));

  it('loads a watched server once and keeps the snapshot stable', async () => {
    const t = setup();
    const unwatch = t.store.watch('s');
    t.store.watch('s');
    expect(t.calls).toHaveLength(1);
    t.calls[0]?.onPage([member('1')]);
    t.calls[0]?.done.resolve({ complete: true });
    await flush();
    const snapshot = t.store.get('s');
    expect(snapshot.status).toBe('ready');
    expect(t.store.get('s')).toBe(snapshot);
    expect(t.store.member('s', '1')?.user.username).toBe('user1');
    unwatch();
    t.store.ensure('s');
    expect(t.calls).toHaveLength(1);
  });

  it('applies gateway events and reloads watched lists after a new session', async () => {
    const t = setup();
    t.store.watch('s');
    t.calls[0]?.done.resolve({ complete: true });
    await flush();
    t.store.handleEvent('member.joined', { ...member('9') });
    expect(t.store.member('s', '9')).toBeDefined();
    t.store.invalidate();
    expect(t.calls).toHaveLength(2);
    expect(t.store.get('s').status).toBe('loading');
    expect(t.store.member('s', '9')).toBeUndefined();
  });

  it('ignores the answer of a cancelled load, and records failures', async () => {
    const t = setup();
    t.store.watch('s');
    const first = t.calls[0];
    t.store.clear();
    expect(first?.signal.aborted).toBe(true);
    first?.onPage([member('1')]);
    first?.done.resolve({ complete: true });
    await flush();
    expect(t.store.get('s').status).toBe('idle');

    t.store.reload('s');
    t.calls[1]?.done.reject(new Error('down'));
    await flush();
    expect(t.store.get('s').status).toBe('error');
    // A failed list is not reloaded behind the user's back…
    t.store.ensure('s');
    expect(t.calls).toHaveLength(2);
    // …but on demand.
    t.store.reload('s');
    expect(t.calls).toHaveLength(3);
  });

  it('forgets a server the user left', async () => {
    const t = setup();
    t.store.watch('s');
    t.store.handleEvent('server.deleted', { id: 's' });
    expect(t.calls[0]?.signal.aborted).toBe(true);
    expect(t.store.get('s').status).toBe('idle');
    expect(t.notified()).toBeGreaterThan(0);
  });
});
