// Role hierarchy (docs/api.md "Roles and channel permission overwrites",
// "Members and moderation"), for deciding what the UI offers. The server has
// the last word: these only hide or disable what it would refuse.
//
// - A member can only edit, delete or assign roles positioned below their own
//   highest role, and only grant permissions they have themselves.
// - The owner and administrators are not limited by permissions; the owner
//   not by position either.
// - Kick, ban, timeout and others' nicknames need the actor to outrank the
//   target; the owner outranks everyone and cannot be moderated.
// - Channel overwrites only for `@everyone`, roles below and members outranked.

import { ALL_PERMISSIONS, has, parsePermissions, permissionValue, type PermissionName } from './permissions';
import type { Member, Role, ServerDetail } from './types';

/** The `@everyone` role's id equals its server's id. */
export const isEveryoneRole = (role: Pick<Role, 'id' | 'server_id'>) => role.id === role.server_id;

function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Highest first (`@everyone` last); equal positions: the older role first. */
export function sortRolesDesc<T extends Pick<Role, 'id' | 'position'>>(roles: readonly T[]): T[] {
  return [...roles].sort((a, b) => b.position - a.position || compareIds(a.id, b.id));
}

/** The position of a member's highest role (0 = only `@everyone`). Unknown ids are ignored. */
export function highestRolePosition(roleIds: readonly string[], roles: readonly Role[]): number {
  let highest = 0;
  const held = new Set(roleIds);
  for (const role of roles) {
    if (held.has(role.id) && role.position > highest) highest = role.position;
  }
  return highest;
}

/** The member's roles (without `@everyone`), highest first. */
export function memberRoles(roleIds: readonly string[], roles: readonly Role[]): Role[] {
  const held = new Set(roleIds);
  return sortRolesDesc(roles.filter((r) => held.has(r.id) && !isEveryoneRole(r)));
}

/** The colour of the member's highest coloured role (null = default colour). */
export function memberColor(roleIds: readonly string[], roles: readonly Role[]): number | null {
  return memberRoles(roleIds, roles).find((r) => r.color !== null)?.color ?? null;
}

/** The member's highest hoisted role (shown as its own group in the member list), if any. */
export function hoistedRole(roleIds: readonly string[], roles: readonly Role[]): Role | null {
  return memberRoles(roleIds, roles).find((r) => r.hoist) ?? null;
}

/**
 * Server-wide permissions of a member, the way the server computes them:
 * `@everyone` ∪ the member's roles; the owner and administrators get everything.
 */
export function basePermissions(
  server: Pick<ServerDetail, 'id' | 'owner_id' | 'roles'>,
  userId: string,
  roleIds: readonly string[],
): bigint {
  if (server.owner_id === userId) return ALL_PERMISSIONS;
  const held = new Set(roleIds);
  let bits = 0n;
  for (const role of server.roles) {
    if (role.id === server.id || held.has(role.id)) bits |= parsePermissions(role.permissions);
  }
  return bits & permissionValue('administrator') ? ALL_PERMISSIONS : bits;
}

/** Who is acting (the logged-in user in a server). */
export interface Actor {
  userId: string;
  isOwner: boolean;
  /** server-wide permissions */
  permissions: string | bigint;
  /** position of the highest role */
  highest: number;
}

/** The logged-in user as an actor in a server (from `server.me`). */
export function actorOf(server: Pick<ServerDetail, 'owner_id' | 'roles' | 'me'>, userId: string): Actor {
  return {
    userId,
    isOwner: server.owner_id === userId,
    permissions: server.me.permissions,
    highest: highestRolePosition(server.me.roles, server.roles),
  };
}

/** Someone acted upon. */
export interface Target {
  userId: string;
  isOwner: boolean;
  highest: number;
}

export function targetOf(server: Pick<ServerDetail, 'owner_id' | 'roles'>, member: Pick<Member, 'user' | 'roles'>): Target {
  return {
    userId: member.user.id,
    isOwner: server.owner_id === member.user.id,
    highest: highestRolePosition(member.roles, server.roles),
  };
}

/** The owner outranks everyone; nobody outranks the owner; otherwise the higher top role wins. */
export function outranks(actor: Pick<Actor, 'isOwner' | 'highest'>, target: Pick<Target, 'isOwner' | 'highest'>): boolean {
  if (target.isOwner) return false;
  if (actor.isOwner) return true;
  return actor.highest > target.highest;
}

/** Whether the actor may edit (or assign) this role: manage_roles and below their highest role. */
export function canManageRole(actor: Actor, role: Pick<Role, 'position'>): boolean {
  if (actor.isOwner) return true;
  return has(actor.permissions, 'manage_roles') && role.position < actor.highest;
}

/** Moving or deleting a role: as editing, and never `@everyone`. */
export function canMoveOrDeleteRole(actor: Actor, role: Pick<Role, 'id' | 'server_id' | 'position'>): boolean {
  return !isEveryoneRole(role) && canManageRole(actor, role);
}

/** The highest position the actor may move a role to (the owner: the top of the list). */
export function maxRolePosition(actor: Actor, roles: readonly Pick<Role, 'position'>[]): number {
  const top = roles.reduce((max, r) => Math.max(max, r.position), 0);
  return actor.isOwner ? top : Math.min(top, actor.highest - 1);
}

/** Only permissions the actor has can be granted (owner and administrators: all). */
export function canGrant(actor: Actor, name: PermissionName): boolean {
  return actor.isOwner || has(actor.permissions, name);
}

/**
 * The roles the actor may add to or remove from members (never `@everyone`): below their
 * highest role, and granting nothing they lack themselves.
 */
export function assignableRoles(actor: Actor, roles: readonly Role[]): Role[] {
  if (!actor.isOwner && !has(actor.permissions, 'manage_roles')) return [];
  const own = parsePermissions(actor.permissions);
  const grantable = (r: Role) => actor.isOwner || (parsePermissions(r.permissions) & ~own) === 0n;
  return sortRolesDesc(roles.filter((r) => !isEveryoneRole(r) && canManageRole(actor, r) && grantable(r)));
}

/**
 * Whether the actor may give (or take) a channel overwrite to this target: `@everyone`, a
 * role below their highest, or a member they outrank (never themselves); the owner anyone.
 * `memberRoles`: the member's roles, null when not known (the server decides then).
 */
export function canTargetOverwrite(
  actor: Actor,
  server: Pick<ServerDetail, 'id' | 'owner_id' | 'roles'>,
  target: { id: string; type: 'role' | 'member' },
  memberRoles: readonly string[] | null,
): boolean {
  if (actor.isOwner) return true;
  if (target.type === 'role') {
    if (target.id === server.id) return true;
    const role = server.roles.find((r) => r.id === target.id);
    return role !== undefined && role.position < actor.highest;
  }
  if (target.id === actor.userId || target.id === server.owner_id) return false;
  return memberRoles === null || actor.highest > highestRolePosition(memberRoles, server.roles);
}

export interface MemberActions {
  nickname: boolean;
  roles: boolean;
  timeout: boolean;
  kick: boolean;
  ban: boolean;
  /** Make them the owner: the owner only, on someone else. */
  transfer: boolean;
}

/** What the actor may do to a member. */
export function memberActions(actor: Actor, target: Target, assignable: number): MemberActions {
  const self = actor.userId === target.userId;
  const above = outranks(actor, target);
  const can = (name: PermissionName) => actor.isOwner || has(actor.permissions, name);
  return {
    nickname: self ? can('change_nickname') : can('manage_nicknames') && above,
    roles: can('manage_roles') && assignable > 0,
    timeout: !self && can('moderate_members') && above,
    kick: !self && can('kick_members') && above,
    ban: !self && can('ban_members') && above,
    transfer: !self && actor.isOwner,
  };
}

/** Whether a member's timeout is still running at `now` (epoch ms). */
export function isTimedOut(member: Pick<Member, 'timeout_until'>, now: number): boolean {
  if (!member.timeout_until) return false;
  const until = Date.parse(member.timeout_until);
  return Number.isFinite(until) && until > now;
}
