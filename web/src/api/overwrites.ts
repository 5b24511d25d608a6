// Channel permission overwrites as tri-states (allow / inherit / deny), for
// the channel permissions editor. Pure functions, BigInt bit fields.

import { parsePermissions, permissionValue, type PermissionName } from './permissions';
import type { Overwrite, Role } from './types';

export type TriState = 'allow' | 'inherit' | 'deny';

export interface OverwriteBits {
  allow: string;
  deny: string;
}

export const EMPTY_OVERWRITE: OverwriteBits = { allow: '0', deny: '0' };

/** Allow wins if (against the contract) both bits are set, as the server resolves allow after deny. */
export function overwriteState(bits: OverwriteBits, name: PermissionName): TriState {
  const value = permissionValue(name);
  if (parsePermissions(bits.allow) & value) return 'allow';
  if (parsePermissions(bits.deny) & value) return 'deny';
  return 'inherit';
}

/** The bits with one permission set to a state (the other side's bit cleared). */
export function withOverwriteState(bits: OverwriteBits, name: PermissionName, state: TriState): OverwriteBits {
  const value = permissionValue(name);
  let allow = parsePermissions(bits.allow) & ~value;
  let deny = parsePermissions(bits.deny) & ~value;
  if (state === 'allow') allow |= value;
  if (state === 'deny') deny |= value;
  return { allow: allow.toString(), deny: deny.toString() };
}

export function isEmptyOverwrite(bits: OverwriteBits): boolean {
  return parsePermissions(bits.allow) === 0n && parsePermissions(bits.deny) === 0n;
}

export function sameOverwrite(a: OverwriteBits, b: OverwriteBits): boolean {
  return parsePermissions(a.allow) === parsePermissions(b.allow) && parsePermissions(a.deny) === parsePermissions(b.deny);
}

/** Role overwrites first (highest role first, `@everyone` last), then member overwrites. */
export function sortOverwrites(overwrites: readonly Overwrite[], roles: readonly Role[]): Overwrite[] {
  const position = new Map(roles.map((r) => [r.id, r.position]));
  return [...overwrites].sort((a, b) => {
    if (a.type !== b.type) return a.type === 'role' ? -1 : 1;
    if (a.type === 'role') return (position.get(b.id) ?? -1) - (position.get(a.id) ?? -1);
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

/** The list with this overwrite added or replaced. */
export function upsertOverwrite(list: readonly Overwrite[], overwrite: Overwrite): Overwrite[] {
  return [...list.filter((o) => o.id !== overwrite.id), overwrite];
}

export function removeOverwrite(list: readonly Overwrite[], targetId: string): Overwrite[] {
  return list.filter((o) => o.id !== targetId);
}

/** Whether two channels have the same overwrites (a channel "synced" with its category). */
export function sameOverwrites(a: readonly Overwrite[], b: readonly Overwrite[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((o) => b.some((p) => p.id === o.id && p.type === o.type && sameOverwrite(o, p)));
}
