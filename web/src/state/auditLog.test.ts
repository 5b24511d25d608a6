import { describe, expect, it } from 'vitest';
import type { AuditLogEntry, Channel, PublicUser, Role } from '../api/types';
import { describeAuditEntry, mergeAuditPages, type AuditLookups } from './auditLog';

const user = (id: string, username: string, display_name: string | null = null) =>
  ({ id, username, display_name }) as PublicUser;

const lookups: AuditLookups = {
  users: new Map([
    ['1', user('1', 'alice')],
    ['2', user('2', 'bob', 'Bobby')],
  ]),
  roles: [{ id: 'r1', name: 'Mods', position: 1 } as Role],
  channels: [{ id: 'c1', name: 'general', kind: 'text' } as Channel, { id: 'c2', name: 'Lounge', kind: 'voice' } as Channel],
};

function entry(action: string, fields: Partial<AuditLogEntry> = {}): AuditLogEntry {
  return {
    id: '100',
    server_id: 's',
    actor_id: '1',
    target_id: '2',
    action,
    changes: null,
    reason: null,
    created_at: '2026-01-01T00:00:00Z',
    ...fields,
  };
}

describe('describeAuditEntry', () => {
  it('reads "alice banned bob — reason: spam" from the users of the answer', () => {
    expect(describeAuditEntry(entry('member_ban_add', { reason: ' spam ' }), lookups)).toEqual({
      action: 'member_ban_add',
      actor: 'alice',
      target: 'Bobby',
      reason: 'spam',
      changes: [],
    });
  });

  it('names roles and channels, falling back to a name in the changes, then the id', () => {
    expect(describeAuditEntry(entry('role_update', { target_id: 'r1' }), lookups).target).toBe('Mods');
    expect(describeAuditEntry(entry('channel_create', { target_id: 'c1' }), lookups).target).toBe('#general');
    expect(describeAuditEntry(entry('overwrite_update', { target_id: 'c2' }), lookups).target).toBe('Lounge');
    expect(
      describeAuditEntry(entry('role_delete', { target_id: 'gone', changes: { name: 'Old role' } }), lookups).target,
    ).toBe('Old role');
    expect(describeAuditEntry(entry('invite_delete', { target_id: 'xyz' }), lookups).target).toBe('xyz');
    expect(describeAuditEntry(entry('server_update'), lookups).target).toBeNull();
  });

  it('keeps unknown actions and actors readable', () => {
    const s = describeAuditEntry(entry('something_new', { actor_id: '999' }), lookups);
    expect(s.action).toBe('unknown');
    expect(s.actor).toBeNull();
  });

  it('summarises changes, with role names and before → after', () => {
    const s = describeAuditEntry(
      entry('member_roles_update', { changes: { added: ['r1'], removed: [], nickname: { old: null, new: 'Bo' } } }),
      lookups,
    );
    expect(s.changes).toEqual([
      { key: 'added', value: '@Mods' },
      { key: 'removed', value: '—' },
      { key: 'nickname', value: '— → Bo' },
    ]);
  });
});

describe('mergeAuditPages', () => {
  it('appends older pages without duplicates', () => {
    const a = entry('member_kick', { id: '3' });
    const b = entry('member_kick', { id: '2' });
    const c = entry('member_kick', { id: '1' });
    expect(mergeAuditPages([a, b], [b, c]).map((e) => e.id)).toEqual(['3', '2', '1']);
  });
});
