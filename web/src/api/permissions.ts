// Permission bits (docs/api.md "Servers and channels"). On the wire a permission
// set is a decimal string of a 64-bit field: JavaScript numbers lose bits past
// 2^53 and bitwise operators work on 32 bits, so everything here is a BigInt.
// The values match `GET /api/v1/permissions`.

/** Bit positions, as in the server's permission engine. */
export const PERMISSION_BITS = {
  create_invites: 0,
  kick_members: 1,
  ban_members: 2,
  administrator: 3,
  manage_channels: 4,
  manage_server: 5,
  add_reactions: 6,
  view_audit_log: 7,
  priority_speaker: 8,
  video: 9,
  view_channel: 10,
  send_messages: 11,
  manage_messages: 13,
  embed_links: 14,
  attach_files: 15,
  read_message_history: 16,
  mention_everyone: 17,
  connect: 20,
  speak: 21,
  mute_members: 22,
  deafen_members: 23,
  move_members: 24,
  change_nickname: 26,
  manage_nicknames: 27,
  manage_roles: 28,
  moderate_members: 40,
} as const;

export type PermissionName = keyof typeof PERMISSION_BITS;

export const PERMISSION_NAMES = Object.keys(PERMISSION_BITS) as PermissionName[];

/** The value of one permission (1 << bit). */
export function permissionValue(name: PermissionName): bigint {
  return 1n << BigInt(PERMISSION_BITS[name]);
}

/** Every defined permission. */
export const ALL_PERMISSIONS: bigint = PERMISSION_NAMES.reduce((all, name) => all | permissionValue(name), 0n);

/** Parses a decimal permission string; anything malformed counts as no permission. */
export function parsePermissions(value: string | bigint | null | undefined): bigint {
  if (typeof value === 'bigint') return value >= 0n ? value : 0n;
  if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) return 0n;
  return BigInt(value);
}

/** Whether `perms` grants `name`. `administrator` implies every permission. */
export function has(perms: string | bigint | null | undefined, name: PermissionName): boolean {
  const bits = parsePermissions(perms);
  if (bits & permissionValue('administrator')) return true;
  const wanted = permissionValue(name);
  return (bits & wanted) === wanted;
}

/** The names granted by `perms`, in bit order (administrator → all of them). */
export function permissionNames(perms: string | bigint | null | undefined): PermissionName[] {
  return PERMISSION_NAMES.filter((name) => has(perms, name));
}

/** The decimal wire form of a set of names. */
export function toPermissionString(names: readonly PermissionName[]): string {
  return names.reduce((all, name) => all | permissionValue(name), 0n).toString();
}
