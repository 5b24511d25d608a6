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

// ---------- groups, for settings screens ----------

export type PermissionGroup = 'general' | 'members' | 'text' | 'voice';

/** Every permission in exactly one group, in the order the role editor shows them. */
export const PERMISSION_GROUPS: Readonly<Record<PermissionGroup, readonly PermissionName[]>> = {
  general: ['view_channel', 'manage_channels', 'manage_roles', 'view_audit_log', 'manage_server', 'administrator'],
  members: [
    'create_invites',
    'change_nickname',
    'manage_nicknames',
    'kick_members',
    'ban_members',
    'moderate_members',
  ],
  text: [
    'send_messages',
    'embed_links',
    'attach_files',
    'add_reactions',
    'mention_everyone',
    'manage_messages',
    'read_message_history',
  ],
  voice: ['connect', 'speak', 'video', 'priority_speaker', 'mute_members', 'deafen_members', 'move_members'],
};

export const PERMISSION_GROUP_NAMES = Object.keys(PERMISSION_GROUPS) as PermissionGroup[];

/** Permissions that only make sense server-wide (never in a channel overwrite). */
const SERVER_ONLY: ReadonlySet<PermissionName> = new Set<PermissionName>([
  'administrator',
  'manage_server',
  'view_audit_log',
  'kick_members',
  'ban_members',
  'change_nickname',
  'manage_nicknames',
  'moderate_members',
]);

/**
 * The groups an overwrite of a channel of this kind can change: text channels
 * have no voice permissions, voice channels no text ones, categories both.
 */
export function channelPermissionGroups(
  kind: 'text' | 'voice' | 'category',
): { group: PermissionGroup; names: PermissionName[] }[] {
  return PERMISSION_GROUP_NAMES.filter((group) => !(kind === 'text' && group === 'voice'))
    .filter((group) => !(kind === 'voice' && group === 'text'))
    .map((group) => ({ group, names: PERMISSION_GROUPS[group].filter((name) => !SERVER_ONLY.has(name)) }))
    .filter((entry) => entry.names.length > 0);
}

// ---------- a member's permissions in a channel ----------

export interface ChannelPermissionInput {
  userId: string;
  server: { id: string; owner_id: string; roles: readonly { id: string; permissions: string }[] };
  /** The member's role ids (`@everyone`, whose id is the server's, is implied). */
  memberRoles: readonly string[];
  overwrites: readonly { id: string; type: 'role' | 'member'; allow: string; deny: string }[];
  /** RFC 3339: while in the future, only view_channel and read_message_history remain. */
  timeoutUntil?: string | null;
  /** epoch ms (default Date.now()) */
  now?: number;
}

/** What a timed-out member keeps. */
const TIMEOUT_KEEPS = permissionValue('view_channel') | permissionValue('read_message_history');

/**
 * A member's permissions in a channel, resolved the Discord way: the owner and
 * administrators have everything; otherwise the union of `@everyone` and the
 * member's roles, then the channel's `@everyone` overwrite, then the union of
 * the role overwrites (deny, then allow), then the member's own overwrite.
 * Without view_channel nothing remains; a timeout keeps only reading.
 */
export function computeChannelPermissions(input: ChannelPermissionInput): bigint {
  const { server, userId } = input;
  if (server.owner_id === userId) return ALL_PERMISSIONS;
  const roleIds = new Set(input.memberRoles);
  let perms = 0n;
  for (const role of server.roles) {
    if (role.id === server.id || roleIds.has(role.id)) perms |= parsePermissions(role.permissions);
  }
  if (perms & permissionValue('administrator')) return ALL_PERMISSIONS;

  const everyone = input.overwrites.find((o) => o.type === 'role' && o.id === server.id);
  if (everyone) perms = (perms & ~parsePermissions(everyone.deny)) | parsePermissions(everyone.allow);
  let allow = 0n;
  let deny = 0n;
  for (const o of input.overwrites) {
    if (o.type === 'role' && o.id !== server.id && roleIds.has(o.id)) {
      allow |= parsePermissions(o.allow);
      deny |= parsePermissions(o.deny);
    }
  }
  perms = (perms & ~deny) | allow;
  const own = input.overwrites.find((o) => o.type === 'member' && o.id === userId);
  if (own) perms = (perms & ~parsePermissions(own.deny)) | parsePermissions(own.allow);

  if (!(perms & permissionValue('view_channel'))) return 0n;
  if (input.timeoutUntil) {
    const until = Date.parse(input.timeoutUntil);
    if (Number.isFinite(until) && until > (input.now ?? Date.now())) perms &= TIMEOUT_KEEPS;
  }
  return perms;
}
