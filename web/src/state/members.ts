// The member lists of servers, as pure data + reducers (no React): loaded page
// by page over REST (`GET /servers/{id}/members`), kept live by member.joined,
// member.updated and member.removed. Also the member list's grouping (hoisted
// roles, Online, Offline — the Discord way) and display names.

import { isMember, normalizeMember } from '../api/guards';
import { hoistedRole } from '../api/hierarchy';
import type { Member, Role } from '../api/types';
import type { ObservedStatus, Presence } from '../gateway/protocol';

export type MemberListStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface MemberListState {
  status: MemberListStatus;
  /** user id → member */
  members: Readonly<Record<string, Member>>;
  /** False when the page cap stopped the loading before the end of a (very big) server. */
  complete: boolean;
  /**
   * While loading: users an event changed (or removed). A page computed before
   * the event must not bring back the old copy.
   */
  live: Readonly<Record<string, 'updated' | 'removed'>>;
  error: unknown;
}

/** server id → its member list (absent = never loaded). */
export type MembersState = Readonly<Record<string, MemberListState>>;

export const IDLE_MEMBER_LIST: MemberListState = Object.freeze({
  status: 'idle',
  members: Object.freeze({}),
  complete: false,
  live: Object.freeze({}),
  error: null,
}) as MemberListState;

export type MemberAction =
  | { type: 'members.loading'; server_id: string }
  | { type: 'members.page'; server_id: string; members: Member[] }
  | { type: 'members.loaded'; server_id: string; complete: boolean }
  | { type: 'members.failed'; server_id: string; error: unknown }
  /** `member.joined` / `member.updated`, or the answer of our own PATCH. */
  | { type: 'member.upsert'; member: Member }
  /** `member.removed`, or our own kick / ban. */
  | { type: 'member.removed'; server_id: string; user_id: string }
  /** `role.deleted`: the role leaves every member. */
  | { type: 'role.deleted'; server_id: string; id: string }
  /** `server.deleted` (left, kicked, banned, deleted): forget the list. */
  | { type: 'server.gone'; server_id: string };

export function membersReducer(state: MembersState, action: MemberAction): MembersState {
  switch (action.type) {
    case 'members.loading':
      return { ...state, [action.server_id]: { ...IDLE_MEMBER_LIST, status: 'loading' } };
    case 'members.page': {
      const list = state[action.server_id];
      if (!list || list.status !== 'loading') return state;
      const members = { ...list.members };
      for (const member of action.members) {
        // An event already told us something newer about this user.
        if (list.live[member.user.id]) continue;
        members[member.user.id] = member;
      }
      return { ...state, [action.server_id]: { ...list, members } };
    }
    case 'members.loaded': {
      const list = state[action.server_id];
      if (!list || list.status !== 'loading') return state;
      return { ...state, [action.server_id]: { ...list, status: 'ready', complete: action.complete, live: {} } };
    }
    case 'members.failed': {
      const list = state[action.server_id];
      if (!list || list.status !== 'loading') return state;
      return { ...state, [action.server_id]: { ...IDLE_MEMBER_LIST, status: 'error', error: action.error } };
    }
    case 'member.upsert': {
      const serverId = action.member.server_id;
      const list = state[serverId];
      // Not followed (never loaded, or failed): the next load brings it.
      if (!list || (list.status !== 'ready' && list.status !== 'loading')) return state;
      const userId = action.member.user.id;
      // Events carry no presence: keep the one the list was loaded with.
      const presence = action.member.presence ?? list.members[userId]?.presence;
      const member = presence ? { ...action.member, presence } : action.member;
      return {
        ...state,
        [serverId]: {
          ...list,
          members: { ...list.members, [userId]: member },
          live: list.status === 'loading' ? { ...list.live, [userId]: 'updated' } : list.live,
        },
      };
    }
    case 'member.removed': {
      const list = state[action.server_id];
      if (!list || (list.status !== 'ready' && list.status !== 'loading')) return state;
      if (!(action.user_id in list.members) && list.status === 'ready') return state;
      const members = { ...list.members };
      delete members[action.user_id];
      return {
        ...state,
        [action.server_id]: {
          ...list,
          members,
          live: list.status === 'loading' ? { ...list.live, [action.user_id]: 'removed' } : list.live,
        },
      };
    }
    case 'role.deleted': {
      const list = state[action.server_id];
      if (!list) return state;
      let changed = false;
      const members: Record<string, Member> = {};
      for (const [userId, member] of Object.entries(list.members)) {
        if (member.roles.includes(action.id)) {
          changed = true;
          members[userId] = { ...member, roles: member.roles.filter((r) => r !== action.id) };
        } else {
          members[userId] = member;
        }
      }
      return changed ? { ...state, [action.server_id]: { ...list, members } } : state;
    }
    case 'server.gone': {
      if (!(action.server_id in state)) return state;
      const next = { ...state };
      delete next[action.server_id];
      return next;
    }
    default:
      return state;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The store action for a gateway event, or null for other / malformed events. */
export function memberActionForEvent(t: string, d: unknown): MemberAction | null {
  switch (t) {
    case 'member.joined':
    case 'member.updated':
      return isMember(d) && typeof d.server_id === 'string' ? { type: 'member.upsert', member: normalizeMember(d) } : null;
    case 'member.removed':
      return isRecord(d) && typeof d.server_id === 'string' && typeof d.user_id === 'string'
        ? { type: 'member.removed', server_id: d.server_id, user_id: d.user_id }
        : null;
    case 'role.deleted':
      return isRecord(d) && typeof d.server_id === 'string' && typeof d.id === 'string'
        ? { type: 'role.deleted', server_id: d.server_id, id: d.id }
        : null;
    case 'server.deleted':
      return isRecord(d) && typeof d.id === 'string' ? { type: 'server.gone', server_id: d.id } : null;
    default:
      return null;
  }
}

// ---------- display ----------

/** nickname > display name > username. */
export function memberDisplayName(member: Pick<Member, 'nickname' | 'user'>): string {
  return member.nickname?.trim() || member.user.display_name?.trim() || member.user.username;
}

/** How others see the member: unknown, invisible and offline all count as offline. */
/**
 * The presences to show for a member list: what the gateway pushed (live) wins; members it
 * said nothing about show the presence the list was loaded with (in large servers, whose
 * changes are not pushed, that is all there is).
 */
export function withListedPresences(
  known: Readonly<Record<string, Presence>>,
  members: readonly Member[],
): Readonly<Record<string, Presence>> {
  const listed = members.filter((m) => m.presence && !known[m.user.id]);
  if (listed.length === 0) return known;
  const out: Record<string, Presence> = { ...known };
  for (const m of listed) if (m.presence) out[m.user.id] = m.presence;
  return out;
}

export function observedStatus(presences: Readonly<Record<string, Presence>>, userId: string): ObservedStatus {
  const status = presences[userId]?.status;
  return status === undefined || status === 'invisible' ? 'offline' : status;
}

export interface MemberGroup {
  /** a role id, `online` or `offline` */
  key: string;
  kind: 'role' | 'online' | 'offline';
  role: Role | null;
  members: Member[];
}

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

export function compareMembers(a: Member, b: Member): number {
  return collator.compare(memberDisplayName(a), memberDisplayName(b)) || (a.user.id < b.user.id ? -1 : a.user.id > b.user.id ? 1 : 0);
}

/**
 * The member list's groups: online members under their highest hoisted role
 * (highest role first), the other online members under "Online", everyone
 * offline under "Offline". Members sorted by name; empty groups left out.
 */
export function groupMembers(
  members: readonly Member[],
  roles: readonly Role[],
  presences: Readonly<Record<string, Presence>>,
): MemberGroup[] {
  const byRole = new Map<string, { role: Role; members: Member[] }>();
  const online: Member[] = [];
  const offline: Member[] = [];
  for (const member of members) {
    if (observedStatus(presences, member.user.id) === 'offline') {
      offline.push(member);
      continue;
    }
    const role = hoistedRole(member.roles, roles);
    if (!role) {
      online.push(member);
      continue;
    }
    const entry = byRole.get(role.id) ?? { role, members: [] };
    entry.members.push(member);
    byRole.set(role.id, entry);
  }
  const groups: MemberGroup[] = [...byRole.values()]
    .sort((a, b) => b.role.position - a.role.position)
    .map(({ role, members: list }) => ({ key: role.id, kind: 'role', role, members: list.sort(compareMembers) }));
  if (online.length > 0) groups.push({ key: 'online', kind: 'online', role: null, members: online.sort(compareMembers) });
  if (offline.length > 0) {
    groups.push({ key: 'offline', kind: 'offline', role: null, members: offline.sort(compareMembers) });
  }
  return groups;
}
