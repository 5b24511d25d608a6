import { createContext, useContext } from 'react';
import type {
  Channel,
  ChannelCreateInput,
  ChannelPatch,
  CurrentUser,
  LoginInput,
  PasswordChangeInput,
  RegisterInput,
  Server,
  ServerDetail,
  ServerPatch,
  Session,
  SettingsPatch,
  UserPatch,
} from '../api/types';
import type { GatewayState } from '../gateway/client';
import type { ObservedStatus, Presence, PresenceUpdate } from '../gateway/protocol';
import type { ServerAction, ServerList } from './servers';

export type AuthStatus = 'loading' | 'authenticated' | 'anonymous' | 'error';

export interface AuthState {
  status: AuthStatus;
  user: CurrentUser | null;
  /** null = not loaded (or stale) */
  sessions: Session[] | null;
  /** The previous session ended without the user logging out. */
  sessionExpired: boolean;
  /** user_id → presence, from the gateway (`ready`, `presence.updated`). */
  presences: Record<string, Presence>;
  /** The real-time connection. */
  connection: GatewayState;
  /** The presence the user chose (saved in their settings, so the same on every device). */
  presenceChoice: PresenceUpdate;
  /** The servers the user is in, with the channels they can see (null = not loaded yet). */
  servers: ServerList;
}

export interface AuthActions {
  login(input: LoginInput): Promise<void>;
  register(input: RegisterInput): Promise<void>;
  logout(): Promise<void>;
  retry(): Promise<void>;
  updateProfile(patch: UserPatch): Promise<CurrentUser>;
  updateSettings(patch: SettingsPatch): Promise<void>;
  loadSessions(): Promise<void>;
  revokeSession(id: string): Promise<void>;
  /** Signs out every other device of the user's. */
  revokeOtherSessions(): Promise<void>;
  changePassword(input: PasswordChangeInput): Promise<void>;
  /**
   * Saves the status / custom status in the user's settings: every session of theirs takes
   * it. Shown at once; rejects (with the change undone) if the server refuses it.
   */
  setPresence(update: PresenceUpdate): Promise<void>;
  /** `POST /servers`; the new server is in the store when this resolves. */
  createServer(name: string): Promise<ServerDetail>;
  updateServer(serverId: string, patch: ServerPatch): Promise<Server>;
  /** Owner only. */
  deleteServer(serverId: string): Promise<void>;
  /** Members other than the owner. */
  leaveServer(serverId: string): Promise<void>;
  createChannel(serverId: string, input: ChannelCreateInput): Promise<Channel>;
  updateChannel(channelId: string, patch: ChannelPatch): Promise<Channel>;
  deleteChannel(channel: Pick<Channel, 'id' | 'server_id'>): Promise<void>;
  /** Applies the answer of our own REST call to the server store (roles, overwrites, joins…). */
  applyServerAction(action: ServerAction): void;
}

export const AuthStateContext = createContext<AuthState | null>(null);
export const AuthActionsContext = createContext<AuthActions | null>(null);

export function useAuth(): AuthState {
  const value = useContext(AuthStateContext);
  if (!value) throw new Error('useAuth must be used inside <AuthProvider>');
  return value;
}

export function useAuthActions(): AuthActions {
  const value = useContext(AuthActionsContext);
  if (!value) throw new Error('useAuthActions must be used inside <AuthProvider>');
  return value;
}

/** The logged-in user; only valid below <RequireAuth>. */
export function useCurrentUser(): CurrentUser {
  const { user } = useAuth();
  if (!user) throw new Error('useCurrentUser used without a logged-in user');
  return user;
}

/** A user's presence as far as we know (undefined = unknown). */
export function usePresence(userId: string | null | undefined): Presence | undefined {
  const { presences } = useAuth();
  return userId ? presences[userId] : undefined;
}

/** The logged-in user's own status and custom status, as their sessions see it. */
export function useOwnPresence(): { status: ObservedStatus; custom: Presence['custom_status'] } {
  const { user, presences, presenceChoice } = useAuth();
  const known = user ? presences[user.id] : undefined;
  if (known) return { status: known.status, custom: known.custom_status };
  return { status: presenceChoice.status, custom: presenceChoice.custom_status };
}

/** The servers the user is in (null until loaded). */
export function useServers(): ServerList {
  return useAuth().servers;
}

/** One server by id (undefined when unknown or not loaded). */
export function useServer(serverId: string | null | undefined): ServerDetail | undefined {
  const { servers } = useAuth();
  return serverId ? servers?.find((s) => s.id === serverId) : undefined;
}
