import { ApiClient, type LockManagerLike } from './client';
import type {
  AuthResponse,
  CurrentUser,
  LoginInput,
  PasswordChangeInput,
  PublicUser,
  RegisterInput,
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

export const authApi = {
  register: (input: RegisterInput) =>
    api.request<AuthResponse>('POST', '/auth/register', { body: input, auth: false }),
  login: (input: LoginInput) =>
    api.request<AuthResponse>('POST', '/auth/login', { body: input, auth: false }),
  logout: () => api.request<void>('POST', '/auth/logout'),
  sessions: () => api.request<Session[]>('GET', '/auth/sessions'),
  revokeSession: (id: string) =>
    api.request<void>('DELETE', `/auth/sessions/${encodeURIComponent(id)}`),
  changePassword: (input: PasswordChangeInput) =>
    api.request<void>('POST', '/auth/password', { body: input }),
};

export const usersApi = {
  me: () => api.request<CurrentUser>('GET', '/users/@me'),
  updateMe: (patch: UserPatch) => api.request<CurrentUser>('PATCH', '/users/@me', { body: patch }),
  get: (id: string) => api.request<PublicUser>('GET', `/users/${encodeURIComponent(id)}`),
};
