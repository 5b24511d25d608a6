import { describe, expect, it } from 'vitest';
import type { AuditLogEntry, Channel, PublicUser, Role } from '../api/types';
import { describeAuditEntry, formerNames, mergeAuditPages, type AuditLookups, type AuditWords } from './auditLog';

const user = (id: string, username: string, display_name: string | null = null) =>
  ({ id, username, display_name }) as PublicUser;

const lookups: AuditLookups = {
  users: new Map([
    ['1', user('1', 'alice')],
    ['2', user('2', 'bob', 'Bobby')],
  ]),
  roles: [{ id: 'r1', name: 'Mods', position: 1 } as Role, { id: 'everyone', name: '@everyone', position: 0 } as Role],
  channels: [{ id: 'c1', name: 'general', kind: 'text' } as Channel, { id: 'c2', name: 'Lounge', kind: 'voice' } as Channel],
};

/** Words that show what was asked for. */
const words: AuditWords = {
  none: '—',
  yes: 'yes',
  no: 'no',
  permission: (name) => `perm:${name}`,
  kind: (kind) => `kind:${kind}`,
  dateTime: (iso) => `date:${iso}`,
  duration: (unit, count) => `${count} ${unit}`,
  never: 'never',
  off: 'off',
  unlimited: 'unlimited',
  openMessage: 'open',
};

const describe_ = (e: AuditLogEntry) => describeAuditEntry(e, lookups, words);

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
    expect(describe_(entry('member_ban_add', { reason: ' spam ' }))).toEqual({
      action: 'member_ban_add',
      actor: 'alice',
      target: 'Bobby',
      reason: 'spam',
      changes: [],
    });
  });

  it('names roles and channels, falling back to a name in the changes, then the id', () => {
    expect(describe_(entry('role_update', { target_id: 'r1' })).target).toBe('Mods');
    expect(describe_(entry('channel_create', { target_id: 'c1' })).target).toBe('#general');
    expect(describe_(entry('overwrite_update', { target_id: 'c2' })).target).toBe('Lounge');
    expect(
      describe_(entry('role_delete', { target_id: 'gone', changes: { name: 'Old role' } })).target,
    ).toBe('Old role');
    expect(describe_(entry('invite_delete', { target_id: 'xyz' })).target).toBe('xyz');
    expect(describe_(entry('server_update')).target).toBeNull();
  });

  it('keeps unknown actions and actors readable', () => {
    const s = describe_(entry('something_new', { actor_id: '999' }));
    expect(s.action).toBe('unknown');
    expect(s.actor).toBeNull();
  });

  it('summarises changes, with role names and before → after', () => {
    const s = describe_(entry('member_roles_update', { changes: { added: ['r1'], removed: [] } }));
    expect(s.changes).toEqual([
      { key: 'added', value: '@Mods' },
      { key: 'removed', value: '—' },
    ]);
    const nick = describe_(entry('member_update', { changes: { nickname: [null, 'Bo'] } }));
    expect(nick.changes).toEqual([{ key: 'nickname', value: '— → Bo' }]);
  });

  it('names the users, roles, channels, permissions and colours in the values', () => {
    const owner = describe_(entry('server_update', { target_id: null, changes: { name: ['Old', 'New'], owner_id: ['1', '2'] } }));
    expect(owner.changes).toEqual([
      { key: 'name', value: 'Old → New' },
      { key: 'owner_id', value: 'alice → Bobby' },
    ]);
    const role = describe_(
      entry('role_update', {
        target_id: 'r1',
        changes: { permissions: ['0', '8194'], color: [null, 15277667], hoist: [false, true] },
      }),
    );
    expect(role.changes).toEqual([
      { key: 'permissions', value: '— → perm:kick_members, perm:manage_messages' },
      { key: 'color', value: '— → #E91E63' },
      { key: 'hoist', value: 'no → yes' },
    ]);
    const overwrite = describe_(
      entry('overwrite_update', { target_id: 'c1', changes: { target_id: 'everyone', type: 'role', allow: '0', deny: '1024' } }),
    );
    // @everyone keeps its one @.
    expect(overwrite.changes).toEqual([
      { key: 'target_id', value: '@everyone' },
      { key: 'type', value: 'kind:role' },
      { key: 'allow', value: '—' },
      { key: 'deny', value: 'perm:view_channel' },
    ]);
    const created = describe_(entry('channel_create', { target_id: 'c2', changes: { name: 'Lounge', kind: 'voice' } }));
    expect(created.changes).toEqual([
      { key: 'name', value: 'Lounge' },
      { key: 'kind', value: 'kind:voice' },
    ]);
    const moved = describe_(entry('channel_update', { target_id: null, changes: { positions: [['c1', 1], ['c2', 0]] } }));
    expect(moved.changes).toEqual([{ key: 'positions', value: '#general: 1, Lounge: 0' }]);
    const timeout = describe_(entry('member_timeout', { changes: { timeout_until: '2026-12-07T18:00:00Z' } }));
    expect(timeout.changes).toEqual([{ key: 'timeout_until', value: 'date:2026-12-07T18:00:00Z' }]);
    const lifted = describe_(entry('member_timeout', { changes: { timeout_until: null } }));
    expect(lifted.changes).toEqual([{ key: 'timeout_until', value: '—' }]);
    // A message still there is a link to it; a deleted one's id, or one in a channel the
    // reader does not know, says nothing.
    const pin = describe_(entry('message_pin', { changes: { channel_id: 'c1', message_id: '77' } }));
    expect(pin.changes).toEqual([
      { key: 'channel_id', value: '#general' },
      { key: 'message_id', value: 'open', message: { channelId: 'c1', messageId: '77' } },
    ]);
    const deleted = describe_(entry('message_delete', { changes: { channel_id: 'c1', message_id: '77' } }));
    expect(deleted.changes).toEqual([{ key: 'channel_id', value: '#general' }]);
    const hidden = describe_(entry('message_unpin', { changes: { channel_id: 'c404', message_id: '77' } }));
    expect(hidden.changes.find((c) => c.key === 'message_id')).toEqual({ key: 'message_id', value: '—' });
  });

  it('words a category\'s entries and a lifted timeout apart', () => {
    expect(describe_(entry('channel_create', { target_id: 'c9', changes: { name: 'Papo', kind: 'category' } })).action).toBe('category_create');
    expect(describe_(entry('channel_create', { target_id: 'c1', changes: { name: 'general', kind: 'text' } })).action).toBe('channel_create');
    const lookupsWithCategory = { ...lookups, channels: [...lookups.channels, { id: 'k1', name: 'Papo', kind: 'category' } as Channel] };
    expect(describeAuditEntry(entry('channel_update', { target_id: 'k1', changes: {} }), lookupsWithCategory, words).action).toBe('category_update');
    expect(describe_(entry('member_timeout', { changes: { timeout_until: null } })).action).toBe('member_timeout_lifted');
    expect(describe_(entry('member_timeout', { changes: { timeout_until: '2026-12-07T18:00:00Z' } })).action).toBe('member_timeout');
  });

  it('says durations and limits in words: 7 days, never, no limit', () => {
    const invite = describe_(entry('invite_create', { target_id: null, changes: { code: 'abc', max_age_secs: 604_800, max_uses: 0 } }));
    expect(invite.changes).toEqual([
      { key: 'code', value: 'abc' },
      { key: 'max_age_secs', value: '7 days' },
      { key: 'max_uses', value: 'unlimited' },
    ]);
    const forever = describe_(entry('invite_create', { target_id: null, changes: { max_age_secs: 0, max_uses: 5 } }));
    expect(forever.changes).toEqual([
      { key: 'max_age_secs', value: 'never' },
      { key: 'max_uses', value: '5' },
    ]);
    const slow = describe_(entry('channel_update', { target_id: 'c1', changes: { slowmode_secs: [0, 90] } }));
    expect(slow.changes).toEqual([{ key: 'slowmode_secs', value: 'off → 90 seconds' }]);
    const ban = describe_(entry('member_ban_add', { changes: { delete_message_secs: 3_600 } }));
    expect(ban.changes).toEqual([{ key: 'delete_message_secs', value: '1 hours' }]);
  });

  it('takes a renamed channel’s new name when the channel is gone', () => {
    expect(describe_(entry('channel_update', { target_id: 'gone', changes: { name: ['a', 'b'] } })).target).toBe('b');
  });
});

describe('bans', () => {
  it('say nothing of deleted messages when none were', () => {
    expect(describe_(entry('member_ban_add', { changes: { delete_message_secs: 0 } })).changes).toEqual([]);
    expect(describe_(entry('member_ban_add', { changes: { delete_message_secs: 3600 } })).changes).toEqual([
      { key: 'delete_message_secs', value: '1 hours' },
    ]);
  });
});

describe('former names', () => {
  it('names a role deleted since by its deletion, in its older entries', () => {
    const log = [
      entry('role_delete', { id: '3', target_id: 'r9', changes: { name: 'Helpers' } }),
      entry('role_update', { id: '2', target_id: 'r9', changes: { position: [1, 2] } }),
    ];
    const named = { ...lookups, formerNames: formerNames(log) };
    expect(describeAuditEntry(log[1]!, named, words).target).toBe('Helpers');
    expect(describeAuditEntry(log[1]!, lookups, words).target, 'without the entries: the id').toBe('r9');
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
