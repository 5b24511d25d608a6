// The servers the user is in, as pure data + reducers (no React): filled from
// the gateway's `ready.servers`, kept live by server.* / channel.* events and
// by the answers of our own REST calls. Applying the same change twice (REST
// answer, then the event) is harmless: everything is an upsert by id.

import {
  isChannel,
  isMember,
  isRole,
  isServerDetail,
  normalizeChannel,
  normalizeRole,
  normalizeServerDetail,
} from '../api/guards';
import { basePermissions, sortRolesDesc } from '../api/hierarchy';
import type { Channel, ChannelKind, Role, Server, ServerDetail } from '../api/types';

/** null = not loaded yet (before the gateway's `ready`). */
export type ServerList = ServerDetail[] | null;

export type ServerAction =
  /** The whole list (gateway `ready`, or the REST fallback). */
  | { type: 'servers.loaded'; servers: ServerDetail[] }
  /** `server.created`, or the answer of `POST /servers` / `GET /servers/{id}`. */
  | { type: 'server.upsert'; server: ServerDetail }
  /**
   * `server.updated` / `PATCH /servers/{id}`: the server fields only. `self_id`:
   * recompute `me.permissions` when the owner changes (an ownership transfer).
   */
  | { type: 'server.updated'; server: Partial<Server> & { id: string }; self_id?: string | undefined }
  /** `server.deleted`, our own delete or leave. */
  | { type: 'server.deleted'; id: string }
  /** `channel.created` / `channel.updated`, or our own create / edit. */
  | { type: 'channel.upsert'; channel: Channel }
  /** `channel.deleted` or our own delete. */
  | { type: 'channel.deleted'; id: string; server_id: string }
  /**
   * Our own overwrite change (answered 204, without the channel): applied only to a channel
   * still in the list, since the change may have hidden it from us (`channel.deleted` first).
   */
  | { type: 'channel.overwrites'; id: string; server_id: string; overwrites: Channel['overwrites'] }
  /** `role.created` / `role.updated`, or our own create / edit. `self_id`: recompute `me.permissions`. */
  | { type: 'role.upsert'; role: Role; self_id?: string | undefined }
  /** `role.deleted` or our own delete. */
  | { type: 'role.deleted'; id: string; server_id: string; self_id?: string | undefined }
  /** `GET /servers/{id}/roles` (e.g. after a reorder moved several roles). */
  | { type: 'roles.loaded'; server_id: string; roles: Role[]; self_id?: string | undefined }
  /**
   * `member.updated` about the logged-in user: their roles (and so their
   * permissions) changed; `timeout_until` when known (omitted: kept).
   */
  | { type: 'me.roles'; server_id: string; self_id: string; roles: string[]; timeout_until?: string | null };

/** Snowflake-like ids are decimal strings: compare them as numbers. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** By position, ties by id (older first). */
export function compareChannels(a: Channel, b: Channel): number {
  return a.position - b.position || compareIds(a.id, b.id);
}

export function sortChannels(channels: readonly Channel[]): Channel[] {
  return [...channels].sort(compareChannels);
}

const SERVER_FIELDS = ['name', 'description', 'icon', 'owner_id', 'created_at'] as const;

export function serversReducer(list: ServerList, action: ServerAction): ServerList {
  switch (action.type) {
    case 'servers.loaded': {
      const seen = new Set<string>();
      const out: ServerDetail[] = [];
      for (const server of action.servers) {
        if (seen.has(server.id)) continue;
        seen.add(server.id);
        out.push(withSortedChannels(server));
      }
      return out;
    }
    case 'server.upsert': {
      // Not loaded yet (no `ready`, no REST fallback): a list of this one server would pass
      // for the whole list, and the fallback would not load the rest. `ready` or the
      // fallback brings it with the others.
      if (!list) return list;
      const server = withSortedChannels(action.server);
      const index = list.findIndex((s) => s.id === server.id);
      if (index < 0) return [...list, server];
      const next = [...list];
      next[index] = server;
      return next;
    }
    case 'server.updated': {
      if (!list) return list;
      const patch = action.server;
      return mapServer(list, patch.id, (server) => {
        const next: ServerDetail = { ...server };
        for (const field of SERVER_FIELDS) {
          if (field in patch && patch[field] !== undefined) {
            (next as unknown as Record<string, unknown>)[field] = patch[field];
          }
        }
        // A new owner: our permissions change (the owner holds them all).
        if (action.self_id !== undefined && next.owner_id !== server.owner_id) {
          return withMe(next, next.me.roles, action.self_id);
        }
        return next;
      });
    }
    case 'server.deleted': {
      if (!list || !list.some((s) => s.id === action.id)) return list;
      return list.filter((s) => s.id !== action.id);
    }
    case 'channel.upsert': {
      if (!list) return list;
      const channel = action.channel;
      return mapServer(list, channel.server_id, (server) => {
        const others = server.channels.filter((c) => c.id !== channel.id);
        return { ...server, channels: sortChannels([...others, channel]) };
      });
    }
    case 'channel.overwrites': {
      if (!list) return list;
      return mapServer(list, action.server_id, (server) => {
        if (!server.channels.some((c) => c.id === action.id)) return server;
        const channels = server.channels.map((c) => (c.id === action.id ? { ...c, overwrites: action.overwrites } : c));
        return { ...server, channels };
      });
    }
    case 'channel.deleted': {
      if (!list) return list;
      return mapServer(list, action.server_id, (server) => {
        if (!server.channels.some((c) => c.id === action.id)) return server;
        // Like the database (ON DELETE SET NULL): a deleted category's channels lose their parent.
        const channels = server.channels
          .filter((c) => c.id !== action.id)
          .map((c) => (c.parent_id === action.id ? { ...c, parent_id: null } : c));
        return { ...server, channels };
      });
    }
    case 'role.upsert': {
      if (!list) return list;
      const role = action.role;
      return mapServer(list, role.server_id, (server) => {
        const roles = sortRolesDesc([...server.roles.filter((r) => r.id !== role.id), role]);
        const mine = role.id === server.id || server.me.roles.includes(role.id);
        return withMe({ ...server, roles }, server.me.roles, mine ? action.self_id : undefined);
      });
    }
    case 'role.deleted': {
      if (!list) return list;
      return mapServer(list, action.server_id, (server) => {
        if (!server.roles.some((r) => r.id === action.id)) return server;
        const roles = server.roles.filter((r) => r.id !== action.id);
        // Overwrites of a deleted role go with it.
        const channels = server.channels.map((c) =>
          c.overwrites.some((o) => o.id === action.id)
            ? { ...c, overwrites: c.overwrites.filter((o) => o.id !== action.id) }
            : c,
        );
        const mine = server.me.roles.includes(action.id);
        const meRoles = mine ? server.me.roles.filter((id) => id !== action.id) : server.me.roles;
        return withMe({ ...server, roles, channels }, meRoles, mine ? action.self_id : undefined);
      });
    }
    case 'roles.loaded': {
      if (!list) return list;
      return mapServer(list, action.server_id, (server) =>
        withMe({ ...server, roles: sortRolesDesc(action.roles) }, server.me.roles, action.self_id),
      );
    }
    case 'me.roles': {
      if (!list) return list;
      return mapServer(list, action.server_id, (server) => {
        const next = withMe(server, action.roles, action.self_id);
        return action.timeout_until === undefined ? next : { ...next, me: { ...next.me, timeout_until: action.timeout_until } };
      });
    }
    default:
      return list;
  }
}

/**
 * The server with the logged-in user's roles; with `selfId`, `me.permissions`
 * is recomputed from the roles (the server sends no event for it).
 */
function withMe(server: ServerDetail, roles: string[], selfId: string | undefined): ServerDetail {
  const permissions = selfId === undefined ? server.me.permissions : basePermissions(server, selfId, roles).toString();
  return { ...server, me: { ...server.me, permissions, roles } };
}

function withSortedChannels(server: ServerDetail): ServerDetail {
  return { ...server, channels: sortChannels(server.channels) };
}

function mapServer(list: ServerDetail[], id: string, fn: (server: ServerDetail) => ServerDetail): ServerDetail[] {
  const index = list.findIndex((s) => s.id === id);
  if (index < 0) return list;
  const current = list[index] as ServerDetail;
  const updated = fn(current);
  if (updated === current) return list;
  const next = [...list];
  next[index] = updated;
  return next;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The store action for a gateway event, or null for other / malformed events.
 * `selfId` (the logged-in user) lets role and member events update `me`.
 */
export function actionForEvent(t: string, d: unknown, selfId?: string): ServerAction | null {
  switch (t) {
    case 'server.created':
      return isServerDetail(d) ? { type: 'server.upsert', server: normalizeServerDetail(d) } : null;
    case 'server.updated':
      return isRecord(d) && typeof d.id === 'string'
        ? { type: 'server.updated', server: d as Partial<Server> & { id: string }, self_id: selfId }
        : null;
    case 'server.deleted':
      return isRecord(d) && typeof d.id === 'string' ? { type: 'server.deleted', id: d.id } : null;
    case 'channel.created':
    case 'channel.updated':
      return isChannel(d) ? { type: 'channel.upsert', channel: normalizeChannel(d) } : null;
    case 'channel.deleted':
      return isRecord(d) && typeof d.id === 'string' && typeof d.server_id === 'string'
        ? { type: 'channel.deleted', id: d.id, server_id: d.server_id }
        : null;
    case 'role.created':
    case 'role.updated':
      return isRole(d) ? { type: 'role.upsert', role: normalizeRole(d), self_id: selfId } : null;
    case 'role.deleted':
      return isRecord(d) && typeof d.id === 'string' && typeof d.server_id === 'string'
        ? { type: 'role.deleted', id: d.id, server_id: d.server_id, self_id: selfId }
        : null;
    case 'member.updated':
      return selfId !== undefined && isMember(d) && d.user.id === selfId && typeof d.server_id === 'string'
        ? {
            type: 'me.roles',
            server_id: d.server_id,
            self_id: selfId,
            roles: d.roles.filter((r): r is string => typeof r === 'string'),
            timeout_until: d.timeout_until ?? null,
          }
        : null;
    default:
      return null;
  }
}

/** Well-formed servers of a `ready` payload. */
export function serversFromReady(servers: unknown): ServerDetail[] {
  if (!Array.isArray(servers)) return [];
  return servers.filter(isServerDetail).map(normalizeServerDetail);
}

// ---------- sidebar layout ----------

export interface ChannelGroup {
  /** A category's id, or `text` / `voice` for the channels outside any category. */
  key: string;
  /** The category (null for the two groups of uncategorised channels). */
  category: Channel | null;
  /** For the uncategorised groups: which kind they hold. */
  kind: 'text' | 'voice' | null;
  channels: Channel[];
}

/**
 * The sidebar's groups: channels outside a category first (text, then voice),
 * then each category by position with its channels by position. A channel whose
 * category the member cannot see counts as uncategorised.
 */
export function groupChannels(channels: readonly Channel[]): ChannelGroup[] {
  const sorted = sortChannels(channels);
  const categories = sorted.filter((c) => c.kind === 'category');
  const categoryIds = new Set(categories.map((c) => c.id));
  const text: Channel[] = [];
  const voice: Channel[] = [];
  const children = new Map<string, Channel[]>();
  for (const channel of sorted) {
    if (channel.kind === 'category') continue;
    if (channel.parent_id !== null && categoryIds.has(channel.parent_id)) {
      const list = children.get(channel.parent_id) ?? [];
      list.push(channel);
      children.set(channel.parent_id, list);
    } else if (channel.kind === 'voice') {
      voice.push(channel);
    } else {
      text.push(channel);
    }
  }
  const groups: ChannelGroup[] = [];
  if (text.length > 0) groups.push({ key: 'text', category: null, kind: 'text', channels: text });
  if (voice.length > 0) groups.push({ key: 'voice', category: null, kind: 'voice', channels: voice });
  for (const category of categories) {
    groups.push({ key: category.id, category, kind: null, channels: children.get(category.id) ?? [] });
  }
  return groups;
}

/** Text and voice channels in the order the sidebar shows them. */
export function channelsInDisplayOrder(channels: readonly Channel[]): Channel[] {
  return groupChannels(channels).flatMap((g) => g.channels);
}

/** Where to go in a server: its first text channel (else its first channel), or null. */
export function defaultChannel(server: Pick<ServerDetail, 'channels'>): Channel | null {
  const ordered = channelsInDisplayOrder(server.channels);
  return ordered.find((c) => c.kind === 'text') ?? ordered[0] ?? null;
}

/** The categories of a server, by position. */
export function categoriesOf(server: Pick<ServerDetail, 'channels'>): Channel[] {
  return sortChannels(server.channels.filter((c) => c.kind === 'category'));
}

// ---------- routes ----------

export const serverPath = (serverId: string) => `/app/servers/${encodeURIComponent(serverId)}`;
export const channelPath = (serverId: string, channelId: string) =>
  `${serverPath(serverId)}/channels/${encodeURIComponent(channelId)}`;
export const serverSettingsPath = (serverId: string) => `${serverPath(serverId)}/settings`;

export type ServerRoute =
  | { status: 'loading' }
  | { status: 'redirect'; to: string }
  | { status: 'ok'; server: ServerDetail; channel: Channel | null };

/**
 * What `/app/servers/:serverId[/channels/:channelId]` shows. An unknown (or
 * deleted, or left) server goes back to `/app`; no channel, or an unknown (or
 * deleted) channel, or a category, goes to the server's first text channel.
 */
export function resolveServerRoute(list: ServerList, serverId: string, channelId: string | null): ServerRoute {
  if (list === null) return { status: 'loading' };
  const server = list.find((s) => s.id === serverId);
  if (!server) return { status: 'redirect', to: '/app' };
  const channel = channelId === null ? null : server.channels.find((c) => c.id === channelId);
  if (channel && channel.kind !== 'category') return { status: 'ok', server, channel };
  const fallback = defaultChannel(server);
  if (fallback) return { status: 'redirect', to: channelPath(server.id, fallback.id) };
  // A server without any channel the member can see.
  if (channelId !== null) return { status: 'redirect', to: serverPath(server.id) };
  return { status: 'ok', server, channel: null };
}

// ---------- names ----------

/**
 * The name the server will store: text channel names are lower-cased with runs
 * of spaces turned into `-`; other kinds are only trimmed.
 */
export function normalizeChannelName(kind: ChannelKind, raw: string): string {
  const trimmed = raw.trim();
  if (kind !== 'text') return trimmed;
  return trimmed.replace(/^#+/u, '').toLowerCase().split(/\s+/u).filter(Boolean).join('-');
}

/** Up to three initials for a server without an icon ("Clube do Livro" → "CdL"). */
export function serverInitials(name: string): string {
  const words = name.trim().split(/\s+/u).filter(Boolean);
  const initials = words.map((w) => Array.from(w)[0] ?? '').join('');
  return Array.from(initials).slice(0, 3).join('') || '?';
}
