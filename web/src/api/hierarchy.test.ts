import { describe, expect, it } from 'vitest';
import {
  actorOf,
  assignableRoles,
  basePermissions,
  canGrant,
  canManageRole,
  canMoveOrDeleteRole,
  canTargetOverwrite,
  highestRolePosition,
  hoistedRole,
  isTimedOut,
  maxRolePosition,
  memberActions,
  memberColor,
  outranks,
  sortRolesDesc,
  targetOf,
  type Actor,
} from './hierarchy';
import { ALL_PERMISSIONS, parsePermissions, toPermissionString } from './permissions';
import type { Member, Role, ServerDetail } from './types';

function role(id: string, position: number, fields: Partial<Role> = {}): Role {
  return {
    id,
    server_id: 's',
    name: `r${id}`,
    color: null,
    position,
    permissions: '0',
    hoist: false,
    mentionable: false,
    ...fields,
  };
}

const everyone = role('s', 0, { name: '@everyone', permissions: toPermissionString(['view_channel', 'send_messages']) });
const admin = role('a', 4, { permissions: toPermissionString(['administrator']), color: 0xff0000, hoist: true });
const mod = role('m', 3, {
  permissions: toPermissionString(['manage_roles', 'kick_members', 'ban_members', 'moderate_members', 'manage_nicknames']),
  color: 0x00ff00,
  hoist: true,
});
const helper = role('h', 2, { color: null, hoist: false });
const member = role('x', 1, { color: 0x0000ff });
const roles = [member, everyone, admin, helper, mod];

function server(me: { roles: string[]; permissions?: string }, owner = 'owner'): ServerDetail {
  return {
    id: 's',
    name: 'S',
    description: null,
    icon: null,
    owner_id: owner,
    created_at: '',
    channels: [],
    roles,
    me: { roles: me.roles, permissions: me.permissions ?? '0', timeout_until: null },
    large: false,
  };
}

function m(userId: string, roleIds: string[], fields: Partial<Member> = {}): Member {
  return {
    server_id: 's',
    user: {
      id: userId,
      username: userId,
      display_name: null,
      bio: null,
      pronouns: null,
      accent_color: null,
      avatar: null,
      banner: null,
      created_at: '',
    },
    nickname: null,
    roles: roleIds,
    joined_at: '',
    timeout_until: null,
    ...fields,
  };
}

const modPerms = basePermissions(server({ roles: [] }), 'mo', ['m']);
const modActor: Actor = { userId: 'mo', isOwner: false, permissions: modPerms, highest: 3 };
const ownerActor: Actor = { userId: 'owner', isOwner: true, permissions: ALL_PERMISSIONS, highest: 0 };

describe('role order', () => {
  it('sorts highest first with @everyone last, ties by the older id', () => {
    expect(sortRolesDesc(roles).map((r) => r.id)).toEqual(['a', 'm', 'h', 'x', 's']);
    expect(sortRolesDesc([role('20', 1), role('3', 1)]).map((r) => r.id)).toEqual(['3', '20']);
  });

  it('finds the highest position, 0 for @everyone only, ignoring unknown ids', () => {
    expect(highestRolePosition(['x', 'm'], roles)).toBe(3);
    expect(highestRolePosition([], roles)).toBe(0);
    expect(highestRolePosition(['gone'], roles)).toBe(0);
  });

  it('colours a member with their highest coloured role and groups by the highest hoisted one', () => {
    // helper (2) has no colour: member (1) gives the colour below mod (3).
    expect(memberColor(['h', 'x'], roles)).toBe(0x0000ff);
    expect(memberColor(['m', 'x'], roles)).toBe(0x00ff00);
    expect(memberColor([], roles)).toBeNull();
    expect(hoistedRole(['x', 'm', 'h'], roles)?.id).toBe('m');
    expect(hoistedRole(['x', 'h'], roles)).toBeNull();
  });
});

describe('basePermissions', () => {
  it('unites @everyone and the member roles', () => {
    const perms = basePermissions(server({ roles: [] }), 'u', ['m']);
    expect(perms & (1n << 10n)).toBe(1n << 10n); // view_channel from @everyone
    expect(perms & (1n << 1n)).toBe(1n << 1n); // kick_members from mod
    expect(perms & (1n << 5n)).toBe(0n); // no manage_server
  });

  it('gives everything to the owner and to administrators', () => {
    expect(basePermissions(server({ roles: [] }), 'owner', [])).toBe(ALL_PERMISSIONS);
    expect(basePermissions(server({ roles: [] }), 'u', ['a'])).toBe(ALL_PERMISSIONS);
  });
});

describe('outranks', () => {
  it('the owner outranks everyone and nobody outranks the owner', () => {
    expect(outranks({ isOwner: true, highest: 0 }, { isOwner: false, highest: 4 })).toBe(true);
    expect(outranks({ isOwner: false, highest: 99 }, { isOwner: true, highest: 0 })).toBe(false);
    expect(outranks({ isOwner: true, highest: 0 }, { isOwner: true, highest: 0 })).toBe(false);
  });

  it('otherwise the strictly higher top role wins', () => {
    expect(outranks({ isOwner: false, highest: 3 }, { isOwner: false, highest: 2 })).toBe(true);
    expect(outranks({ isOwner: false, highest: 3 }, { isOwner: false, highest: 3 })).toBe(false);
    expect(outranks({ isOwner: false, highest: 1 }, { isOwner: false, highest: 3 })).toBe(false);
  });
});

describe('managing roles', () => {
  it('allows roles strictly below the actor’s highest, with manage_roles', () => {
    expect(canManageRole(modActor, helper)).toBe(true);
    expect(canManageRole(modActor, mod)).toBe(false);
    expect(canManageRole(modActor, admin)).toBe(false);
    const noPerm: Actor = { ...modActor, permissions: '0' };
    expect(canManageRole(noPerm, helper)).toBe(false);
  });

  it('an administrator is still limited by position, the owner is not', () => {
    const adminActor: Actor = { userId: 'ad', isOwner: false, permissions: ALL_PERMISSIONS, highest: 4 };
    expect(canManageRole(adminActor, mod)).toBe(true);
    expect(canManageRole(adminActor, admin)).toBe(false);
    expect(canManageRole(ownerActor, admin)).toBe(true);
  });

  it('never moves or deletes @everyone', () => {
    expect(canMoveOrDeleteRole(ownerActor, everyone)).toBe(false);
    expect(canMoveOrDeleteRole(ownerActor, helper)).toBe(true);
    expect(canMoveOrDeleteRole(modActor, helper)).toBe(true);
    expect(canMoveOrDeleteRole(modActor, mod)).toBe(false);
  });

  it('caps how high a role can be moved', () => {
    expect(maxRolePosition(modActor, roles)).toBe(2);
    expect(maxRolePosition(ownerActor, roles)).toBe(4);
  });

  it('lists assignable roles below the actor, highest first, without @everyone', () => {
    expect(assignableRoles(modActor, roles).map((r) => r.id)).toEqual(['h', 'x']);
    expect(assignableRoles(ownerActor, roles).map((r) => r.id)).toEqual(['a', 'm', 'h', 'x']);
    expect(assignableRoles({ ...modActor, permissions: '0' }, roles)).toEqual([]);
  });

  it('offers no role granting what the actor lacks, though below them', () => {
    const janitor = { ...helper, id: 'j', name: 'Janitor', permissions: String(1n << 13n) }; // manage_messages
    const own = parsePermissions(modActor.permissions);
    const lacking = { ...modActor, permissions: String(own & ~(1n << 13n)) };
    expect(assignableRoles(lacking, [...roles, janitor]).map((r) => r.id)).not.toContain('j');
    expect(assignableRoles(ownerActor, [...roles, janitor]).map((r) => r.id)).toContain('j');
  });

  it('sets channel overwrites only on those below the actor', () => {
    const server = { id: 's', owner_id: 'owner', roles };
    const role = (r: { id: string }) => ({ id: r.id, type: 'role' as const });
    expect(canTargetOverwrite(modActor, server, { id: 's', type: 'role' }, null)).toBe(true);
    expect(canTargetOverwrite(modActor, server, role(helper), null)).toBe(true);
    expect(canTargetOverwrite(modActor, server, role(mod), null)).toBe(false);
    expect(canTargetOverwrite(modActor, server, role(admin), null)).toBe(false);
    expect(canTargetOverwrite(modActor, server, { id: 'owner', type: 'member' }, [])).toBe(false);
    expect(canTargetOverwrite(modActor, server, { id: modActor.userId, type: 'member' }, [])).toBe(false);
    expect(canTargetOverwrite(modActor, server, { id: 'p', type: 'member' }, [])).toBe(true);
    expect(canTargetOverwrite(modActor, server, { id: 'q', type: 'member' }, [admin.id])).toBe(false);
    expect(canTargetOverwrite(ownerActor, server, role(admin), null)).toBe(true);
  });

  it('only grants permissions the actor has', () => {
    expect(canGrant(modActor, 'kick_members')).toBe(true);
    expect(canGrant(modActor, 'manage_server')).toBe(false);
    expect(canGrant(ownerActor, 'administrator')).toBe(true);
  });
});

describe('memberActions', () => {
  const srv = server({ roles: ['m'], permissions: modPerms.toString() });
  const me = actorOf(srv, 'mo');

  it('reads the actor from server.me', () => {
    expect(me).toEqual({ userId: 'mo', isOwner: false, permissions: modPerms.toString(), highest: 3 });
  });

  it('moderates members below', () => {
    const target = targetOf(srv, m('t', ['h']));
    expect(memberActions(me, target, 2)).toEqual({ nickname: true, roles: true, timeout: true, kick: true, ban: true, transfer: false });
  });

  it('cannot moderate equals, higher members or the owner', () => {
    const peer = targetOf(srv, m('p', ['m']));
    expect(memberActions(me, peer, 2)).toEqual({ nickname: false, roles: true, timeout: false, kick: false, ban: false, transfer: false });
    const owner = targetOf(srv, m('owner', []));
    expect(memberActions(me, owner, 2).kick).toBe(false);
    expect(memberActions(ownerActor, owner, 4).ban).toBe(false);
  });

  it('never moderates oneself; nickname of oneself needs change_nickname', () => {
    const self = targetOf(srv, m('mo', ['m']));
    const actions = memberActions(me, self, 2);
    expect(actions).toMatchObject({ timeout: false, kick: false, ban: false, nickname: false });
    const withNick: Actor = { ...me, permissions: modPerms | (1n << 26n) };
    expect(memberActions(withNick, self, 2).nickname).toBe(true);
  });

  it('offers the ownership transfer to the owner only, on someone else', () => {
    const target = targetOf(srv, m('t', ['h']));
    expect(memberActions(ownerActor, target, 4).transfer).toBe(true);
    expect(memberActions(ownerActor, targetOf(srv, m('owner', [])), 4).transfer).toBe(false);
    // Not even an administrator who is not the owner.
    expect(memberActions({ ...me, permissions: ALL_PERMISSIONS }, target, 2).transfer).toBe(false);
  });

  it('offers roles only when something is assignable', () => {
    expect(memberActions(me, targetOf(srv, m('t', [])), 0).roles).toBe(false);
  });
});

describe('isTimedOut', () => {
  const now = Date.parse('2026-05-01T12:00:00Z');
  it('is true only before timeout_until', () => {
    expect(isTimedOut({ timeout_until: '2026-05-01T12:05:00Z' }, now)).toBe(true);
    expect(isTimedOut({ timeout_until: '2026-05-01T11:00:00Z' }, now)).toBe(false);
    expect(isTimedOut({ timeout_until: null }, now)).toBe(false);
    expect(isTimedOut({ timeout_until: 'garbage' }, now)).toBe(false);
  });
});
