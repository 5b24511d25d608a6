import { describe, expect, it } from 'vitest';
import { message, user } from './chatFixtures';
import {
  EMPTY_DIRECTORY,
  directoryActionForEvent,
  directoryReducer,
  memberInfo,
  memberName,
  usersOf,
} from './userDirectory';

const member = (userId: string, fields: Record<string, unknown> = {}) => ({
  server_id: 's1',
  user: user(userId, { display_name: `Display ${userId}` }),
  nickname: null,
  roles: ['r1'],
  joined_at: '2026-01-01T00:00:00Z',
  timeout_until: null,
  ...fields,
});

function apply(t: string, d: unknown, state = EMPTY_DIRECTORY) {
  const action = directoryActionForEvent(t, d);
  if (!action) throw new Error(`no action for ${t}`);
  return directoryReducer(state, action);
}

describe('user directory', () => {
  it('names a member by nickname, else display name, else username', () => {
    let state = directoryReducer(EMPTY_DIRECTORY, { type: 'directory.users', users: [user('u1')] });
    expect(memberName(state, 's1', 'u1')).toEqual({ status: 'known', name: 'useru1' });
    state = apply('member.joined', member('u1'), state);
    expect(memberName(state, 's1', 'u1')).toEqual({ status: 'known', name: 'Display u1' });
    state = apply('member.updated', member('u1', { nickname: 'Nick' }), state);
    expect(memberName(state, 's1', 'u1')).toEqual({ status: 'known', name: 'Nick' });
    // The nickname belongs to that server only.
    expect(memberName(state, 's2', 'u1')).toEqual({ status: 'known', name: 'Display u1' });
  });

  it('tells unknown users from users a lookup could not find', () => {
    let state = EMPTY_DIRECTORY;
    expect(memberName(state, 's1', 'u9')).toEqual({ status: 'unknown' });
    state = directoryReducer(state, { type: 'directory.missing', serverId: 's1', userId: 'u9' });
    expect(memberName(state, 's1', 'u9')).toEqual({ status: 'missing' });
    state = apply('member.joined', member('u9'), state);
    expect(memberName(state, 's1', 'u9').status).toBe('known');
  });

  it('keeps roles and timeouts of members, and forgets removed members', () => {
    let state = apply('member.updated', member('me', { timeout_until: '2030-01-01T00:00:00Z' }));
    expect(memberInfo(state, 's1', 'me')).toEqual({ nickname: null, roles: ['r1'], timeout_until: '2030-01-01T00:00:00Z' });
    state = apply('member.removed', { server_id: 's1', user_id: 'me' }, state);
    expect(memberInfo(state, 's1', 'me')).toBeNull();
  });

  it('returns the same state when nothing changes', () => {
    const state = directoryReducer(EMPTY_DIRECTORY, { type: 'directory.users', users: [user('u1')] });
    expect(directoryReducer(state, { type: 'directory.users', users: [user('u1')] })).toBe(state);
    const withMember = apply('member.updated', member('u1'), state);
    expect(apply('member.updated', member('u1'), withMember)).toBe(withMember);
  });

  it('collects message authors and replied-to authors', () => {
    const reply = message('2', { author: user('u2'), referenced_message: { id: '1', author: user('u1'), content: 'x' } });
    expect(usersOf([reply]).map((u) => u.id)).toEqual(['u2', 'u1']);
  });

  it('ignores malformed member events', () => {
    expect(directoryActionForEvent('member.updated', { user: { id: 'u1' } })).toBeNull();
    expect(directoryActionForEvent('member.removed', { server_id: 's1' })).toBeNull();
    expect(directoryActionForEvent('message.created', {})).toBeNull();
  });
});
