// The audit log as readable sentences: who did what to whom, with the reason
// and what changed. Pure, no React: the component translates the key.

import type { AuditLogEntry, Channel, PublicUser, Role } from '../api/types';

/** The actions of docs/api.md, for the filter. */
export const AUDIT_ACTIONS = [
  'server_update',
  'channel_create',
  'channel_update',
  'channel_delete',
  'overwrite_update',
  'overwrite_delete',
  'role_create',
  'role_update',
  'role_delete',
  'member_update',
  'member_roles_update',
  'member_timeout',
  'member_kick',
  'member_ban_add',
  'member_ban_remove',
  'invite_create',
  'invite_delete',
  'message_delete',
  'message_bulk_delete',
  'message_pin',
  'message_unpin',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The keys of the server's `changes`, each with a label under `serverSettings.audit.fields`. */
export const AUDIT_FIELDS = [
  'name',
  'kind',
  'type',
  'topic',
  'slowmode_secs',
  'user_limit',
  'bitrate',
  'parent_id',
  'position',
  'positions',
  'description',
  'owner_id',
  'color',
  'hoist',
  'mentionable',
  'permissions',
  'allow',
  'deny',
  'target_id',
  'nickname',
  'added',
  'removed',
  'timeout_until',
  'delete_message_secs',
  'code',
  'max_age_secs',
  'max_uses',
  'channel_id',
  'message_id',
  'count',
] as const;

export type AuditField = (typeof AUDIT_FIELDS)[number];

export function isAuditField(key: string): key is AuditField {
  return (AUDIT_FIELDS as readonly string[]).includes(key);
}

export const AUDIT_PAGE_SIZE = 50;

export function isAuditAction(action: string): action is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(action);
}

export interface AuditLookups {
  users: ReadonlyMap<string, PublicUser>;
  roles: readonly Role[];
  channels: readonly Channel[];
}

export interface AuditChange {
  key: string;
  value: string;
}

export interface AuditSentence {
  /** i18n key under `serverSettings.audit.actions` (`unknown` for actions this client does not know). */
  action: AuditAction | 'unknown';
  actor: string | null;
  /** A name for the target, or null when unknown (the component says "someone" / "something"). */
  target: string | null;
  reason: string | null;
  changes: AuditChange[];
}

const userName = (user: PublicUser) => user.display_name?.trim() || user.username;
const channelName = (channel: Channel) => (channel.kind === 'text' ? `#${channel.name}` : channel.name);

function nameFromChanges(changes: Record<string, unknown> | null): string | null {
  if (!changes) return null;
  for (const key of ['name', 'code', 'username']) {
    const value = changes[key];
    if (typeof value === 'string' && value) return value;
    if (typeof value === 'object' && value !== null) {
      const rec = value as Record<string, unknown>;
      for (const side of ['new', 'after', 'old', 'before']) {
        if (typeof rec[side] === 'string' && rec[side]) return rec[side] as string;
      }
    }
  }
  return null;
}

/** The target's name: a user, role or channel we know, a name in the changes, or the raw id. */
export function auditTargetName(entry: AuditLogEntry, lookups: AuditLookups): string | null {
  const id = entry.target_id;
  if (entry.action === 'server_update') return null;
  if (id) {
    const user = lookups.users.get(id);
    if (user) return userName(user);
    const role = lookups.roles.find((r) => r.id === id);
    if (role) return role.name;
    const channel = lookups.channels.find((c) => c.id === id);
    if (channel) return channelName(channel);
  }
  return nameFromChanges(entry.changes) ?? id;
}

/** Role ids in a change's value are shown with the roles' names. */
function formatValue(value: unknown, lookups: AuditLookups): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') {
    const role = lookups.roles.find((r) => r.id === value);
    return role ? `@${role.name}` : value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length ? value.map((v) => formatValue(v, lookups)).join(', ') : '—';
  if (typeof value === 'object') {
    const rec = value as Record<string, unknown>;
    const before = 'old' in rec ? rec.old : 'before' in rec ? rec.before : undefined;
    const after = 'new' in rec ? rec.new : 'after' in rec ? rec.after : undefined;
    if (before !== undefined || after !== undefined) return `${formatValue(before, lookups)} → ${formatValue(after, lookups)}`;
    return JSON.stringify(value);
  }
  return String(value);
}

const MAX_CHANGE_CHARS = 200;

export function auditChanges(entry: AuditLogEntry, lookups: AuditLookups): AuditChange[] {
  if (!entry.changes || typeof entry.changes !== 'object') return [];
  return Object.entries(entry.changes).map(([key, value]) => {
    const text = formatValue(value, lookups);
    return { key, value: text.length > MAX_CHANGE_CHARS ? `${text.slice(0, MAX_CHANGE_CHARS)}…` : text };
  });
}

export function describeAuditEntry(entry: AuditLogEntry, lookups: AuditLookups): AuditSentence {
  const actor = lookups.users.get(entry.actor_id);
  return {
    action: isAuditAction(entry.action) ? entry.action : 'unknown',
    actor: actor ? userName(actor) : null,
    target: auditTargetName(entry, lookups),
    reason: entry.reason?.trim() ? entry.reason.trim() : null,
    changes: auditChanges(entry, lookups),
  };
}

/** Entries by id, newest first, without duplicates (pages may overlap after new entries). */
export function mergeAuditPages(current: readonly AuditLogEntry[], page: readonly AuditLogEntry[]): AuditLogEntry[] {
  const seen = new Set(current.map((e) => e.id));
  return [...current, ...page.filter((e) => !seen.has(e.id))];
}
