// Shape checks for server and channel payloads that arrive over the gateway
// (untrusted JSON): malformed ones are dropped instead of breaking the UI.

import type { CustomStatus, Presence } from '../gateway/protocol';
import type { Channel, ChannelKind, Member, Overwrite, PublicUser, Role, Server, ServerDetail } from './types';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isNullableString = (value: unknown) => value === null || value === undefined || typeof value === 'string';
const isNullableNumber = (value: unknown) =>
  value === null || value === undefined || (typeof value === 'number' && Number.isFinite(value));

const KINDS: readonly ChannelKind[] = ['text', 'voice', 'category'];

export function isChannel(value: unknown): value is Channel {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.server_id === 'string' &&
    typeof value.kind === 'string' &&
    (KINDS as readonly string[]).includes(value.kind) &&
    typeof value.name === 'string' &&
    typeof value.position === 'number' &&
    isNullableString(value.parent_id) &&
    isNullableString(value.topic) &&
    isNullableNumber(value.user_limit) &&
    isNullableNumber(value.bitrate)
  );
}

/** A channel with every optional field filled (null / 0). */
export function normalizeChannel(channel: Channel): Channel {
  return {
    id: channel.id,
    server_id: channel.server_id,
    kind: channel.kind,
    name: channel.name,
    position: channel.position,
    parent_id: channel.parent_id ?? null,
    topic: channel.topic ?? null,
    slowmode_secs: typeof channel.slowmode_secs === 'number' ? channel.slowmode_secs : 0,
    user_limit: channel.user_limit ?? null,
    bitrate: channel.bitrate ?? null,
    // Older servers send neither field.
    overwrites: Array.isArray(channel.overwrites) ? channel.overwrites.filter(isOverwrite) : [],
    last_message_id: typeof channel.last_message_id === 'string' ? channel.last_message_id : null,
  };
}

const isPermissionString = (value: unknown) => typeof value === 'string' && /^\d{1,20}$/.test(value);

export function isOverwrite(value: unknown): value is Overwrite {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    (value.type === 'role' || value.type === 'member') &&
    isPermissionString(value.allow) &&
    isPermissionString(value.deny)
  );
}

export function isRole(value: unknown): value is Role {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.server_id === 'string' &&
    typeof value.name === 'string' &&
    typeof value.position === 'number' &&
    isNullableNumber(value.color) &&
    typeof value.permissions === 'string'
  );
}

/** A role with every optional field filled. */
export function normalizeRole(role: Role): Role {
  return {
    id: role.id,
    server_id: role.server_id,
    name: role.name,
    color: typeof role.color === 'number' ? role.color : null,
    position: role.position,
    permissions: isPermissionString(role.permissions) ? role.permissions : '0',
    hoist: role.hoist === true,
    mentionable: role.mentionable === true,
  };
}

export function isPublicUser(value: unknown): value is PublicUser {
  return isRecord(value) && typeof value.id === 'string' && typeof value.username === 'string';
}

export function isMember(value: unknown): value is Member {
  return (
    isRecord(value) &&
    isPublicUser(value.user) &&
    (value.server_id === undefined || typeof value.server_id === 'string') &&
    Array.isArray(value.roles) &&
    isNullableString(value.nickname) &&
    isNullableString(value.timeout_until)
  );
}

/** A member with every optional field filled; `serverId` when the payload lacks it (REST lists). */
export function normalizeMember(member: Member, serverId?: string): Member {
  const user = member.user;
  return {
    server_id: typeof member.server_id === 'string' ? member.server_id : (serverId ?? ''),
    user: {
      id: user.id,
      username: user.username,
      display_name: user.display_name ?? null,
      bio: user.bio ?? null,
      pronouns: user.pronouns ?? null,
      accent_color: typeof user.accent_color === 'number' ? user.accent_color : null,
      avatar: user.avatar ?? null,
      banner: user.banner ?? null,
      created_at: user.created_at ?? '',
    },
    nickname: member.nickname ?? null,
    roles: member.roles.filter((r): r is string => typeof r === 'string'),
    joined_at: member.joined_at ?? '',
    timeout_until: member.timeout_until ?? null,
    ...(isPresence(member.presence) ? { presence: member.presence } : {}),
  };
}

export function isServer(value: unknown): value is Server {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.name === 'string' &&
    isNullableString(value.description) &&
    isNullableString(value.icon) &&
    typeof value.owner_id === 'string'
  );
}

export function isServerDetail(value: unknown): value is ServerDetail {
  return (
    isServer(value) &&
    Array.isArray((value as unknown as Record<string, unknown>).channels) &&
    isRecord((value as unknown as Record<string, unknown>).me)
  );
}

/** The server fields only (a `Server` out of a `ServerDetail` or a partial payload). */
export function serverFields(server: Server): Server {
  return {
    id: server.id,
    name: server.name,
    description: server.description ?? null,
    icon: server.icon ?? null,
    owner_id: server.owner_id,
    created_at: server.created_at,
  };
}

/** Drops malformed channels and roles, fills defaults. */
export function normalizeServerDetail(detail: ServerDetail): ServerDetail {
  const me = detail.me as Partial<ServerDetail['me']>;
  return {
    ...serverFields(detail),
    channels: detail.channels.filter(isChannel).map(normalizeChannel),
    roles: Array.isArray(detail.roles) ? detail.roles.filter(isRole).map(normalizeRole) : [],
    me: {
      permissions: typeof me.permissions === 'string' ? me.permissions : '0',
      roles: Array.isArray(me.roles) ? me.roles.filter((r): r is string => typeof r === 'string') : [],
      // Older servers do not send it.
      timeout_until: typeof me.timeout_until === 'string' ? me.timeout_until : null,
    },
    large: detail.large === true,
  };
}

export function isPresence(value: unknown): value is Presence {
  return (
    isRecord(value) &&
    typeof value.user_id === 'string' &&
    typeof value.status === 'string' &&
    ['online', 'idle', 'dnd', 'invisible', 'offline'].includes(value.status) &&
    (value.custom_status === null || value.custom_status === undefined || isCustomStatus(value.custom_status))
  );
}

function isCustomStatus(value: unknown): value is CustomStatus {
  return isRecord(value) && typeof value.text === 'string';
}
