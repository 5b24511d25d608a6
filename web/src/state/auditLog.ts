// The audit log as readable sentences: who did what to whom, with the reason
// and what changed. Pure, no React: the component translates the key.

import { permissionNames, type PermissionName } from '../api/permissions';
import type { AuditLogEntry, Channel, PublicUser, Role } from '../api/types';

/** The actions of docs/api.md, for the filter. */
export const AUDIT_ACTIONS = [
  'server_update',
  'channel_create',
  'channel_update',
  'channel_delete',
  'overwrite_update',
  'overwrite_delete',
  'overwrite_sync',
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

/** The values of `kind` and `type` with a word under `serverSettings.audit.values`. */
export const AUDIT_KINDS: readonly string[] = ['text', 'voice', 'category', 'role', 'member'];

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
  /** The last name of roles and channels gone since, from the entries loaded ([`formerNames`]). */
  formerNames?: ReadonlyMap<string, string>;
}

/**
 * The name each target last had in `entries` (newest first): a role or channel deleted since
 * is named in its deletion's entry, and its older entries (a move, a colour) can use it.
 */
export function formerNames(entries: readonly AuditLogEntry[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const e of entries) {
    const name = nameFromChanges(e.changes);
    if (e.target_id && name !== null && !names.has(e.target_id)) names.set(e.target_id, name);
  }
  return names;
}

export interface AuditChange {
  key: string;
  value: string;
  /** A message still there to open (a pin's): its channel, known to the reader, and id. */
  message?: { channelId: string; messageId: string };
}

export interface AuditSentence {
  /**
   * i18n key under `serverSettings.audit.actions`: the action (`unknown` for actions this
   * client does not know), or a variant of it (`category_create`, `member_timeout_lifted`).
   */
  action: AuditAction | AuditVariant | 'unknown';
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
  for (const key of ['name', 'code']) {
    const value = changes[key];
    if (typeof value === 'string' && value) return value;
    // An edit's `[old, new]`: the new name.
    if (Array.isArray(value) && typeof value[1] === 'string' && value[1]) return value[1];
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
  return nameFromChanges(entry.changes) ?? (id ? lookups.formerNames?.get(id) : undefined) ?? id;
}

/**
 * The words a change's values need, in the reader's language (the component gives them):
 * permission names, yes/no, channel kinds and override types, dates.
 */
export interface AuditWords {
  none: string;
  yes: string;
  no: string;
  permission(name: PermissionName): string;
  /** `text` / `voice` / `category` (a channel's kind) or `role` / `member` (an override's type). */
  kind(kind: string): string;
  dateTime(iso: string): string;
  /** A whole number of days, hours, minutes or seconds ("7 days"). */
  duration(unit: DurationUnit, count: number): string;
  /** An invite's age or a channel's slow mode of 0. */
  never: string;
  off: string;
  /** An invite's `max_uses` of 0. */
  unlimited: string;
  /** The link to a message the entry is about. */
  openMessage: string;
}

export type DurationUnit = 'days' | 'hours' | 'minutes' | 'seconds';

/** `secs` in the largest unit that divides it: 604800 → 7 days, 90 → 90 seconds. */
export function durationParts(secs: number): { unit: DurationUnit; count: number } {
  for (const [unit, size] of [['days', 86_400], ['hours', 3_600], ['minutes', 60]] as const) {
    if (secs >= size && secs % size === 0) return { unit, count: secs / size };
  }
  return { unit: 'seconds', count: secs };
}

/** Actions whose changes hold `[old, new]` pairs (docs/api.md), but for these lists. */
const EDITS = new Set(['server_update', 'channel_update', 'role_update', 'member_update']);
const LISTS = new Set(['positions', 'added', 'removed']);

const roleLabel = (role: Role) => (role.name.startsWith('@') ? role.name : `@${role.name}`);

/** One value of field `key`, in words: names for ids, permission names, colours, dates. */
function formatValue(key: string, value: unknown, lookups: AuditLookups, words: AuditWords): string {
  if (value === null || value === undefined || value === '') return words.none;
  if (Array.isArray(value)) {
    if (key === 'positions') {
      return value
        .map((p) => (Array.isArray(p) ? `${formatValue('channel_id', p[0], lookups, words)}: ${String(p[1])}` : String(p)))
        .join(', ');
    }
    return value.length ? value.map((v) => formatValue(key, v, lookups, words)).join(', ') : words.none;
  }
  if (typeof value === 'boolean') return value ? words.yes : words.no;
  switch (key) {
    case 'permissions':
    case 'allow':
    case 'deny': {
      const names = typeof value === 'string' || typeof value === 'number' ? permissionNames(String(value)) : [];
      return names.length ? names.map(words.permission).join(', ') : words.none;
    }
    case 'color':
      return typeof value === 'number' ? `#${value.toString(16).padStart(6, '0').toUpperCase()}` : String(value);
    case 'kind':
    case 'type':
      return typeof value === 'string' ? words.kind(value) : String(value);
    case 'timeout_until':
      return typeof value === 'string' ? words.dateTime(value) : String(value);
    case 'max_age_secs':
    case 'slowmode_secs':
    case 'delete_message_secs': {
      if (typeof value !== 'number') break;
      if (value === 0) return key === 'max_age_secs' ? words.never : key === 'slowmode_secs' ? words.off : words.none;
      const { unit, count } = durationParts(value);
      return words.duration(unit, count);
    }
    case 'max_uses':
      if (value === 0) return words.unlimited;
      break;
    default:
      break;
  }
  if (typeof value === 'string') return idName(value, lookups) ?? value;
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

/** The name of the user, role or channel with this id, if we know one. */
function idName(id: string, lookups: AuditLookups): string | null {
  const user = lookups.users.get(id);
  if (user) return userName(user);
  const role = lookups.roles.find((r) => r.id === id);
  if (role) return roleLabel(role);
  const channel = lookups.channels.find((c) => c.id === id);
  return channel ? channelName(channel) : null;
}

const MAX_CHANGE_CHARS = 200;

export function auditChanges(entry: AuditLogEntry, lookups: AuditLookups, words: AuditWords): AuditChange[] {
  if (!entry.changes || typeof entry.changes !== 'object') return [];
  const edit = EDITS.has(entry.action);
  // A ban that deleted no messages says nothing of them.
  // A message's id says nothing to a reader: a deleted one's is left out, one still there
  // (pinned or unpinned) is offered as a link to it, when its channel is one the reader sees.
  const said = Object.entries(entry.changes).filter(
    ([key, value]) => !(key === 'delete_message_secs' && value === 0) && !(key === 'message_id' && entry.action === 'message_delete'),
  );
  const channelId = typeof entry.changes.channel_id === 'string' ? entry.changes.channel_id : null;
  const channelKnown = channelId !== null && lookups.channels.some((c) => c.id === channelId);
  return said.map(([key, value]) => {
    if (key === 'message_id' && typeof value === 'string') {
      return channelKnown && channelId !== null
        ? { key, value: words.openMessage, message: { channelId, messageId: value } }
        : { key, value: words.none };
    }
    const text =
      edit && !LISTS.has(key) && Array.isArray(value) && value.length === 2
        ? `${formatValue(key, value[0], lookups, words)} → ${formatValue(key, value[1], lookups, words)}`
        : formatValue(key, value, lookups, words);
    return { key, value: text.length > MAX_CHANGE_CHARS ? `${text.slice(0, MAX_CHANGE_CHARS)}…` : text };
  });
}

/** Sentences worded apart from their action's: a category's, a lifted timeout's. */
export type AuditVariant = 'category_create' | 'category_update' | 'category_delete' | 'member_timeout_lifted';

/** The sentence's key: the action, or its variant for a category or a timeout lifted. */
function phrase(entry: AuditLogEntry, lookups: AuditLookups): AuditSentence['action'] {
  if (!isAuditAction(entry.action)) return 'unknown';
  const changes = (entry.changes ?? {}) as Record<string, unknown>;
  switch (entry.action) {
    case 'channel_create':
    case 'channel_update':
    case 'channel_delete': {
      const kind = changes.kind ?? lookups.channels.find((c) => c.id === entry.target_id)?.kind;
      return kind === 'category' ? (entry.action.replace('channel_', 'category_') as AuditVariant) : entry.action;
    }
    case 'member_timeout':
      return 'timeout_until' in changes && changes.timeout_until === null ? 'member_timeout_lifted' : entry.action;
    default:
      return entry.action;
  }
}

export function describeAuditEntry(entry: AuditLogEntry, lookups: AuditLookups, words: AuditWords): AuditSentence {
  const actor = lookups.users.get(entry.actor_id);
  return {
    action: phrase(entry, lookups),
    actor: actor ? userName(actor) : null,
    target: auditTargetName(entry, lookups),
    reason: entry.reason?.trim() ? entry.reason.trim() : null,
    changes: auditChanges(entry, lookups, words),
  };
}

/** Entries by id, newest first, without duplicates (pages may overlap after new entries). */
export function mergeAuditPages(current: readonly AuditLogEntry[], page: readonly AuditLogEntry[]): AuditLogEntry[] {
  const seen = new Set(current.map((e) => e.id));
  return [...current, ...page.filter((e) => !seen.has(e.id))];
}
