import { createContext, useContext } from 'react';
import type {
  CurrentUser,
  LoginInput,
  PasswordChangeInput,
  RegisterInput,
  Session,
  SettingsPatch,
  UserPatch,
} from '../api/types';

export type AuthStatus = 'loading' | 'authenticated' | 'anonymous' | 'error';

export interface AuthState {
  status: AuthStatus;
  user: CurrentUser | null;
  /** null = not loaded (or stale) */
  sessions: Session[] | null;
  /** The previous session ended without the user logging out. */
  sessionExpired: boolean;
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
  changePassword(input: PasswordChangeInput): Promise<void>;
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
