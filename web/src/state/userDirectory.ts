// The users and server members the chat knows about, for names in messages
// and mentions (pure data + reducers, no React): message authors, members from
// member.* events and the members we looked up for a mention.

import { isMember, normalizeMember } from '../api/guards';
import type { Member, Message, PublicUser } from '../api/types';

export interface MemberInfo {
  nickname: string | null;
  roles: string[];
  timeout_until: string | null;
}

export interface DirectoryState {
  users: Readonly<Record<string, PublicUser>>;
  /** server id → user id → member fields */
  members: Readonly<Record<string, Readonly<Record<string, MemberInfo>>>>;
  /** `serverId:userId` of lookups that found nobody. */
  missing: Readonly<Record<string, true>>;
}

export const EMPTY_DIRECTORY: DirectoryState = { users: {}, members: {}, missing: {} };

export type DirectoryAction =
  | { type: 'directory.users'; users: PublicUser[] }
  | { type: 'directory.member'; member: Member }
  | { type: 'directory.memberRemoved'; serverId: string; userId: string }
  | { type: 'directory.missing'; serverId: string; userId: string }
  | { type: 'directory.reset' };

const missingKey = (serverId: string, userId: string) => `${serverId}:${userId}`;

function sameUser(a: PublicUser | undefined, b: PublicUser): boolean {
  return (
    a !== undefined &&
    a.username === b.username &&
    a.display_name === b.display_name &&
    a.accent_color === b.accent_color &&
    a.avatar === b.avatar
  );
}

function sameMember(a: MemberInfo | undefined, b: MemberInfo): boolean {
  return (
    a !== undefined &&
    a.nickname === b.nickname &&
    a.timeout_until === b.timeout_until &&
    a.roles.length === b.roles.length &&
    a.roles.every((r, i) => r === b.roles[i])
  );
}

function withUsers(state: DirectoryState, users: readonly PublicUser[]): DirectoryState {
  let next: Record<string, PublicUser> | null = null;
  for (const user of users) {
    if (sameUser((next ?? state.users)[user.id], user)) continue;
    next ??= { ...state.users };
    next[user.id] = user;
  }
  return next ? { ...state, users: next } : state;
}

export function directoryReducer(state: DirectoryState, action: DirectoryAction): DirectoryState {
  switch (action.type) {
    case 'directory.users':
      return withUsers(state, action.users);
    case 'directory.member': {
      const { member } = action;
      const serverId = member.server_id;
      const info: MemberInfo = { nickname: member.nickname, roles: member.roles, timeout_until: member.timeout_until };
      let next = withUsers(state, [member.user]);
      const current = next.members[serverId] ?? {};
      if (!sameMember(current[member.user.id], info)) {
        next = { ...next, members: { ...next.members, [serverId]: { ...current, [member.user.id]: info } } };
      }
      const key = missingKey(serverId, member.user.id);
      if (key in next.missing) {
        const missing = { ...next.missing };
        delete missing[key];
        next = { ...next, missing };
      }
      return next;
    }
    case 'directory.memberRemoved': {
      const current = state.members[action.serverId];
      if (!current || !(action.userId in current)) return state;
      const rest = { ...current };
      delete rest[action.userId];
      return { ...state, members: { ...state.members, [action.serverId]: rest } };
    }
    case 'directory.missing': {
      const key = missingKey(action.serverId, action.userId);
      return key in state.missing ? state : { ...state, missing: { ...state.missing, [key]: true } };
    }
    case 'directory.reset':
      return EMPTY_DIRECTORY;
    default:
      return state;
  }
}

/** The authors (and replied-to authors) of some messages. */
export function usersOf(messages: readonly Message[]): PublicUser[] {
  const out: PublicUser[] = [];
  for (const m of messages) {
    out.push(m.author);
    if (m.referenced_message) out.push(m.referenced_message.author);
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The store action for a member.* gateway event, or null. */
export function directoryActionForEvent(t: string, d: unknown): DirectoryAction | null {
  switch (t) {
    case 'member.joined':
    case 'member.updated':
      return isMember(d) && typeof d.server_id === 'string' ? { type: 'directory.member', member: normalizeMember(d) } : null;
    case 'member.removed':
      return isRecord(d) && typeof d.server_id === 'string' && typeof d.user_id === 'string'
        ? { type: 'directory.memberRemoved', serverId: d.server_id, userId: d.user_id }
        : null;
    default:
      return null;
  }
}

// ---------- selectors ----------

export type NameLookup = { status: 'known'; name: string } | { status: 'unknown' } | { status: 'missing' };

/** The name to show for a user in a server: nickname, else display name, else username. */
export function memberName(state: DirectoryState, serverId: string, userId: string): NameLookup {
  const nickname = state.members[serverId]?.[userId]?.nickname;
  if (nickname) return { status: 'known', name: nickname };
  const user = state.users[userId];
  if (user) return { status: 'known', name: user.display_name?.trim() || user.username };
  if (missingKey(serverId, userId) in state.missing) return { status: 'missing' };
  return { status: 'unknown' };
}

/** What we know of one member (null = nothing from an event or a lookup). */
export function memberInfo(state: DirectoryState, serverId: string, userId: string): MemberInfo | null {
  return state.members[serverId]?.[userId] ?? null;
}
