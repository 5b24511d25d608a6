import { ApiClient, type LockManagerLike } from './client';
import { createModerationApi } from './moderation';
import { createMessagesApi } from './messages';
import type {
  AuthResponse,
  Channel,
  ChannelCreateInput,
  ChannelPatch,
  CurrentUser,
  LoginInput,
  PasswordChangeInput,
  PermissionTable,
  PublicUser,
  RegisterInput,
  Server,
  ServerCreateInput,
  ServerDetail,
  ServerPatch,
  Session,
  UserPatch,
} from './types';

export { ApiClient } from './client';
export { ApiError, isApiError } from './errors';
export type * from './types';

function browserStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function browserLocks(): LockManagerLike | null {
  if (typeof navigator === 'undefined' || !('locks' in navigator) || !navigator.locks) return null;
  const locks = navigator.locks;
  return { request: (name, callback) => locks.request(name, callback) };
}

/** The one API client of the app. */
export const api = new ApiClient({ storage: browserStorage(), locks: browserLocks() });

/** Invites, roles, overwrites, members, bans and the audit log (api/moderation.ts). */
export const { invitesApi, rolesApi, overwritesApi, membersApi, bansApi, auditLogApi } = createModerationApi(api);
export { reasonHeaders, AUDIT_REASON_MAX, REASON_HEADER_FIELD } from './moderation';

/** Messages, reactions, pins and read states (api/messages.ts). */
export const messagesApi = createMessagesApi(api);
export { MESSAGE_MAX_LENGTH, MESSAGE_PAGE_LIMIT } from './messages';

export const authApi = {
  register: (input: RegisterInput) =>
    api.request<AuthResponse>('POST', '/auth/register', { body: input, auth: false }),
  login: (input: LoginInput) =>
    api.request<AuthResponse>('POST', '/auth/login', { body: input, auth: false }),
  logout: () => api.signOut('/auth/logout'),
  sessions: () => api.request<Session[]>('GET', '/auth/sessions'),
  revokeSession: (id: string) =>
    api.request<void>('DELETE', `/auth/sessions/${encodeURIComponent(id)}`),
  revokeOtherSessions: () => api.request<{ revoked: number }>('DELETE', '/auth/sessions'),
  changePassword: (input: PasswordChangeInput) =>
    api.request<void>('POST', '/auth/password', { body: input }),
};

export const usersApi = {
  me: () => api.request<CurrentUser>('GET', '/users/@me'),
  updateMe: (patch: UserPatch) => api.request<CurrentUser>('PATCH', '/users/@me', { body: patch }),
  get: (id: string) => api.request<PublicUser>('GET', `/users/${encodeURIComponent(id)}`),
};

const id = (value: string) => encodeURIComponent(value);

export const serversApi = {
  /** 201 ServerDetail; the server comes with `#general`, `General` (voice) and `@everyone`. */
  create: (input: ServerCreateInput) => api.request<ServerDetail>('POST', '/servers', { body: input }),
  /** The servers the caller is a member of. */
  mine: () => api.request<Server[]>('GET', '/users/@me/servers'),
  get: (serverId: string) => api.request<ServerDetail>('GET', `/servers/${id(serverId)}`),
  /** manage_server */
  update: (serverId: string, patch: ServerPatch) =>
    api.request<Server>('PATCH', `/servers/${id(serverId)}`, { body: patch }),
  /** owner only */
  remove: (serverId: string) => api.request<void>('DELETE', `/servers/${id(serverId)}`),
  /** members other than the owner (409 owner_cannot_leave) */
  leave: (serverId: string) => api.request<void>('DELETE', `/users/@me/servers/${id(serverId)}`),
  /** name → decimal bit value */
  permissions: () => api.request<PermissionTable>('GET', '/permissions', { auth: false }),
};

export const channelsApi = {
  /** The channels the caller can view, by position. */
  list: (serverId: string) => api.request<Channel[]>('GET', `/servers/${id(serverId)}/channels`),
  /** manage_channels */
  create: (serverId: string, input: ChannelCreateInput) =>
    api.request<Channel>('POST', `/servers/${id(serverId)}/channels`, { body: input }),
  /** manage_channels */
  update: (channelId: string, patch: ChannelPatch) =>
    api.request<Channel>('PATCH', `/channels/${id(channelId)}`, { body: patch }),
  /** manage_channels */
  remove: (channelId: string) => api.request<void>('DELETE', `/channels/${id(channelId)}`),
};
