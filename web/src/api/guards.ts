// Shape checks for server and channel payloads that arrive over the gateway
// (untrusted JSON): malformed ones are dropped instead of breaking the UI.

import type { Channel, ChannelKind, Server, ServerDetail } from './types';

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
    roles: Array.isArray(detail.roles) ? detail.roles.filter((r) => isRecord(r) && typeof r.id === 'string') : [],
    me: {
      permissions: typeof me.permissions === 'string' ? me.permissions : '0',
      roles: Array.isArray(me.roles) ? me.roles.filter((r): r is string => typeof r === 'string') : [],
    },
  };
}
