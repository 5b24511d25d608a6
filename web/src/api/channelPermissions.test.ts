import { describe, expect, it } from 'vitest';
import {
  ALL_PERMISSIONS,
  computeChannelPermissions,
  has,
  toPermissionString,
  type ChannelPermissionInput,
  type PermissionName,
} from './permissions';

const SERVER = 's1';
const perms = (names: PermissionName[]) => toPermissionString(names);

const server = {
  id: SERVER,
  owner_id: 'owner',
  roles: [
    { id: SERVER, permissions: perms(['view_channel', 'send_messages', 'read_message_history', 'add_reactions']) },
    { id: 'mods', permissions: perms(['manage_messages']) },
    { id: 'admins', permissions: perms(['administrator']) },
    { id: 'muted', permissions: '0' },
  ],
};

function compute(fields: Partial<ChannelPermissionInput> = {}): bigint {
  return computeChannelPermissions({ userId: 'u1', server, memberRoles: [], overwrites: [], ...fields });
}

const overwrite = (id: string, type: 'role' | 'member', allow: string, deny: string) => ({ id, type, allow, deny });

describe('channel permissions', () => {
  it('starts from @everyone and the member’s roles', () => {
    expect(has(compute(), 'send_messages')).toBe(true);
    expect(has(compute(), 'manage_messages')).toBe(false);
    expect(has(compute({ memberRoles: ['mods'] }), 'manage_messages')).toBe(true);
  });

  it('gives the owner and administrators everything, whatever the overwrites', () => {
    const deny = [overwrite(SERVER, 'role', '0', perms(['view_channel', 'send_messages']))];
    expect(compute({ userId: 'owner', overwrites: deny })).toBe(ALL_PERMISSIONS);
    expect(compute({ memberRoles: ['admins'], overwrites: deny })).toBe(ALL_PERMISSIONS);
  });

  it('applies the @everyone overwrite, then role overwrites (union), then the member’s own', () => {
    const overwrites = [
      overwrite(SERVER, 'role', '0', perms(['send_messages'])),
      overwrite('mods', 'role', perms(['send_messages']), '0'),
      overwrite('muted', 'role', '0', perms(['send_messages', 'add_reactions'])),
      overwrite('u1', 'member', perms(['add_reactions']), '0'),
    ];
    expect(has(compute({ overwrites }), 'send_messages')).toBe(false);
    expect(has(compute({ overwrites, memberRoles: ['mods'] }), 'send_messages')).toBe(true);
    // Role overwrites are a union: an allow from one role beats a deny from another.
    expect(has(compute({ overwrites, memberRoles: ['mods', 'muted'] }), 'send_messages')).toBe(true);
    // The member's own allow beats the role deny.
    expect(has(compute({ overwrites, memberRoles: ['muted'] }), 'add_reactions')).toBe(true);
    expect(has(compute({ overwrites, memberRoles: ['muted'], userId: 'u2' }), 'add_reactions')).toBe(false);
  });

  it('an overwrite for a role the member lacks changes nothing', () => {
    const overwrites = [overwrite('mods', 'role', '0', perms(['send_messages']))];
    expect(has(compute({ overwrites }), 'send_messages')).toBe(true);
  });

  it('leaves nothing without view_channel', () => {
    const overwrites = [overwrite('u1', 'member', perms(['send_messages']), perms(['view_channel']))];
    expect(compute({ overwrites })).toBe(0n);
  });

  it('keeps only view_channel and read_message_history during a timeout', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const timedOut = compute({ memberRoles: ['mods'], timeoutUntil: '2026-01-01T00:10:00Z', now });
    expect(has(timedOut, 'view_channel')).toBe(true);
    expect(has(timedOut, 'read_message_history')).toBe(true);
    expect(has(timedOut, 'send_messages')).toBe(false);
    expect(has(timedOut, 'add_reactions')).toBe(false);
    expect(has(timedOut, 'manage_messages')).toBe(false);
    // An ended timeout does nothing.
    expect(has(compute({ timeoutUntil: '2025-12-31T23:00:00Z', now }), 'send_messages')).toBe(true);
    // The owner is never timed out.
    expect(compute({ userId: 'owner', timeoutUntil: '2026-01-01T00:10:00Z', now })).toBe(ALL_PERMISSIONS);
  });
});
