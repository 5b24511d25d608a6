import { describe, expect, it } from 'vitest';
import {
  ALL_PERMISSIONS,
  PERMISSION_BITS,
  PERMISSION_NAMES,
  has,
  parsePermissions,
  permissionNames,
  permissionValue,
  toPermissionString,
} from './permissions';

// What `GET /api/v1/permissions` answers (decimal strings).
const SERVER_TABLE: Record<string, string> = {
  add_reactions: '64',
  administrator: '8',
  attach_files: '32768',
  ban_members: '4',
  change_nickname: '67108864',
  connect: '1048576',
  create_invites: '1',
  deafen_members: '8388608',
  embed_links: '16384',
  kick_members: '2',
  manage_channels: '16',
  manage_messages: '8192',
  manage_nicknames: '134217728',
  manage_roles: '268435456',
  manage_server: '32',
  mention_everyone: '131072',
  moderate_members: '1099511627776',
  move_members: '16777216',
  mute_members: '4194304',
  priority_speaker: '256',
  read_message_history: '65536',
  send_messages: '2048',
  speak: '2097152',
  video: '512',
  view_audit_log: '128',
  view_channel: '1024',
};

describe('permissions', () => {
  it('matches the server’s table', () => {
    expect(PERMISSION_NAMES.slice().sort()).toEqual(Object.keys(SERVER_TABLE).sort());
    for (const name of PERMISSION_NAMES) {
      expect(permissionValue(name).toString(), name).toBe(SERVER_TABLE[name]);
    }
  });

  it('checks single bits', () => {
    const perms = toPermissionString(['view_channel', 'send_messages']);
    expect(perms).toBe('3072');
    expect(has(perms, 'view_channel')).toBe(true);
    expect(has(perms, 'send_messages')).toBe(true);
    expect(has(perms, 'manage_channels')).toBe(false);
    expect(has(perms, 'manage_server')).toBe(false);
  });

  it('reads bits above 2^32 (and past 2^53) exactly', () => {
    expect(PERMISSION_BITS.moderate_members).toBe(40);
    const moderate = (1n << 40n).toString();
    expect(has(moderate, 'moderate_members')).toBe(true);
    expect(has(moderate, 'view_channel')).toBe(false);
    // A 32-bit operator would see bit 40 as bit 8 (priority_speaker).
    expect(has(moderate, 'priority_speaker')).toBe(false);
    // Bits past 2^53 do not spill into the ones we know.
    const high = ((1n << 60n) | (1n << 40n)).toString();
    expect(has(high, 'moderate_members')).toBe(true);
    expect(has(high, 'create_invites')).toBe(false);
  });

  it('administrator implies every permission', () => {
    const admin = permissionValue('administrator').toString();
    for (const name of PERMISSION_NAMES) expect(has(admin, name), name).toBe(true);
    expect(permissionNames(admin)).toEqual(PERMISSION_NAMES);
  });

  it('the owner’s set (every bit) grants everything', () => {
    // `me.permissions` of a server's owner as the server sends it.
    expect(ALL_PERMISSIONS.toString()).toBe('1100014153727');
    expect(has('1100014153727', 'manage_server')).toBe(true);
    expect(has('1100014153727', 'moderate_members')).toBe(true);
  });

  it('treats malformed values as no permission', () => {
    for (const bad of ['', '-1', '1e3', '0x10', ' 16', 'abc', null, undefined, '9'.repeat(30)]) {
      expect(parsePermissions(bad), String(bad)).toBe(0n);
      expect(has(bad, 'manage_channels'), String(bad)).toBe(false);
    }
    expect(has(16n, 'manage_channels')).toBe(true);
  });

  it('lists the granted names in bit order', () => {
    expect(permissionNames('70372929')).toEqual([
      'create_invites',
      'add_reactions',
      'video',
      'view_channel',
      'send_messages',
      'embed_links',
      'attach_files',
      'read_message_history',
      'connect',
      'speak',
      'change_nickname',
    ]);
  });
});
