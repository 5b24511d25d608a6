import { describe, expect, it } from 'vitest';
import {
  EMPTY_OVERWRITE,
  isEmptyOverwrite,
  overwriteState,
  removeOverwrite,
  sameOverwrite,
  sameOverwrites,
  sortOverwrites,
  upsertOverwrite,
  withOverwriteState,
} from './overwrites';
import { PERMISSION_GROUPS, PERMISSION_NAMES, channelPermissionGroups } from './permissions';
import type { Overwrite, Role } from './types';

describe('overwrite tri-states', () => {
  it('reads allow, deny and inherit', () => {
    const bits = { allow: '1024', deny: '2048' };
    expect(overwriteState(bits, 'view_channel')).toBe('allow');
    expect(overwriteState(bits, 'send_messages')).toBe('deny');
    expect(overwriteState(bits, 'connect')).toBe('inherit');
  });

  it('moves a permission between the states, clearing the other side', () => {
    let bits = withOverwriteState(EMPTY_OVERWRITE, 'send_messages', 'deny');
    expect(bits).toEqual({ allow: '0', deny: '2048' });
    bits = withOverwriteState(bits, 'send_messages', 'allow');
    expect(bits).toEqual({ allow: '2048', deny: '0' });
    bits = withOverwriteState(bits, 'view_channel', 'deny');
    expect(bits).toEqual({ allow: '2048', deny: '1024' });
    bits = withOverwriteState(bits, 'send_messages', 'inherit');
    expect(bits).toEqual({ allow: '0', deny: '1024' });
    expect(isEmptyOverwrite(bits)).toBe(false);
    expect(isEmptyOverwrite(withOverwriteState(bits, 'view_channel', 'inherit'))).toBe(true);
  });

  it('keeps bits past 2^32 exact', () => {
    const bits = withOverwriteState(EMPTY_OVERWRITE, 'moderate_members', 'allow');
    expect(bits.allow).toBe('1099511627776');
    expect(overwriteState(bits, 'moderate_members')).toBe('allow');
    expect(overwriteState(bits, 'priority_speaker')).toBe('inherit');
  });

  it('compares by value, not by spelling', () => {
    expect(sameOverwrite({ allow: '0', deny: '16' }, { allow: '00', deny: '16' })).toBe(true);
    expect(sameOverwrite({ allow: '0', deny: '16' }, { allow: '16', deny: '0' })).toBe(false);
  });
});

describe('overwrite lists', () => {
  const role = (id: string, position: number) => ({ id, position }) as Role;
  const ow = (id: string, type: 'role' | 'member'): Overwrite => ({ id, type, allow: '0', deny: '0' });

  it('orders roles by position (highest first), then members', () => {
    const roles = [role('s', 0), role('a', 2), role('b', 1)];
    const sorted = sortOverwrites([ow('u2', 'member'), ow('s', 'role'), ow('u1', 'member'), ow('a', 'role'), ow('b', 'role')], roles);
    expect(sorted.map((o) => o.id)).toEqual(['a', 'b', 's', 'u1', 'u2']);
  });

  it('adds, replaces and removes', () => {
    const list = upsertOverwrite([ow('a', 'role')], { ...ow('a', 'role'), deny: '1024' });
    expect(list).toEqual([{ id: 'a', type: 'role', allow: '0', deny: '1024' }]);
    expect(removeOverwrite(upsertOverwrite(list, ow('u', 'member')), 'a').map((o) => o.id)).toEqual(['u']);
  });
});

describe('permission groups', () => {
  it('puts every permission in exactly one group', () => {
    const grouped = Object.values(PERMISSION_GROUPS).flat();
    expect(grouped.slice().sort()).toEqual(PERMISSION_NAMES.slice().sort());
    expect(new Set(grouped).size).toBe(grouped.length);
  });

  it('offers only channel permissions in overwrites, by channel kind', () => {
    const text = channelPermissionGroups('text');
    expect(text.map((g) => g.group)).toEqual(['general', 'members', 'text']);
    const names = text.flatMap((g) => g.names);
    expect(names).toContain('view_channel');
    expect(names).toContain('send_messages');
    expect(names).toContain('create_invites');
    expect(names).not.toContain('administrator');
    expect(names).not.toContain('ban_members');
    expect(names).not.toContain('connect');
    expect(channelPermissionGroups('voice').map((g) => g.group)).toEqual(['general', 'members', 'voice']);
    expect(channelPermissionGroups('category').map((g) => g.group)).toEqual(['general', 'members', 'text', 'voice']);
  });
});

describe('channels synced with their category', () => {
  it('compares whole sets of overwrites, in any order, bits by value', () => {
    const role: Overwrite = { id: 'r1', type: 'role', allow: '1024', deny: '0' };
    const member: Overwrite = { id: 'u1', type: 'member', allow: '0', deny: '2048' };
    expect(sameOverwrites([], [])).toBe(true);
    expect(sameOverwrites([role, member], [member, role])).toBe(true);
    expect(sameOverwrites([role], [{ ...role, allow: '01024' }])).toBe(true);
    expect(sameOverwrites([role], [role, member])).toBe(false);
    expect(sameOverwrites([role, member], [role])).toBe(false);
    expect(sameOverwrites([role], [{ ...role, deny: '2048' }])).toBe(false);
    expect(sameOverwrites([role], [{ ...role, type: 'member' }])).toBe(false);
  });
});
