import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, authApi, usersApi } from '../api';
import type {
  CurrentUser,
  LoginInput,
  PasswordChangeInput,
  RegisterInput,
  Session,
  Settings,
  SettingsPatch,
  UserPatch,
} from '../api';
import { TOKEN_KEYS } from '../api/client';
import i18n from '../i18n';
import { browserLanguages, pickLanguage } from '../i18n/language';
import { cacheLocale, cacheTheme, readCachedLocale, readCachedTheme } from '../preferences';
import { applyTheme } from '../theme';
import { AuthActionsContext, AuthStateContext, type AuthActions, type AuthState } from './context';

const anonymous = (sessionExpired: boolean): AuthState => ({
  status: 'anonymous',
  user: null,
  sessions: null,
  sessionExpired,
});

function mergeSettings(settings: Settings, patch: SettingsPatch): Settings {
  return {
    ...settings,
    ...(patch.locale !== undefined ? { locale: patch.locale } : {}),
    ...(patch.theme !== undefined ? { theme: patch.theme } : {}),
    privacy: { ...settings.privacy, ...patch.privacy },
    audio_video: { ...settings.audio_video, ...patch.audio_video },
  };
}

/**
 * Holds all server state of the app (the current user and their sessions)
 * and the actions that change it. Components read it through useAuth().
 */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>(() =>
    api.hasSession()
      ? { status: 'loading', user: null, sessions: null, sessionExpired: false }
      : anonymous(false),
  );
  const stateRef = useRef(state);
  stateRef.current = state;

  const loadMe = useCallback(async () => {
    if (!api.hasSession()) {
      setState((s) => anonymous(s.sessionExpired));
      return;
    }
    setState((s) => ({ ...s, status: 'loading' }));
    try {
      const user = await usersApi.me();
      setState({ status: 'authenticated', user, sessions: null, sessionExpired: false });
    } catch (err) {
      if (api.hasSession()) {
        // Server unreachable or failing: keep the tokens and offer a retry.
        setState((s) => ({ ...s, status: 'error' }));
        console.warn('papo: could not load the current user', err);
      } else {
        setState((s) => anonymous(s.sessionExpired));
      }
    }
  }, []);

  // Session lifecycle: initial load, proactive refresh, lost sessions, other tabs.
  useEffect(() => {
    const off = api.onAuthLost(() => setState(anonymous(true)));
    if (api.hasSession()) {
      api.schedule();
      void loadMe();
    }
    const onStorage = (event: StorageEvent) => {
      if (event.key !== null && event.key !== TOKEN_KEYS.refresh) return;
      if (!api.hasSession()) {
        // Logged out in another tab.
        api.stop();
        if (stateRef.current.status !== 'anonymous') setState(anonymous(false));
      } else {
        api.schedule();
        if (stateRef.current.status === 'anonymous') void loadMe();
      }
    };
    window.addEventListener('storage', onStorage);
    return () => {
      off();
      api.stop();
      window.removeEventListener('storage', onStorage);
    };
  }, [loadMe]);

  // Language and theme follow the user's saved settings (or this device's last ones).
  const savedLocale = state.user?.settings.locale;
  const savedTheme = state.user?.settings.theme;
  const authenticated = state.status === 'authenticated';
  useEffect(() => {
    let locale = readCachedLocale();
    let theme = readCachedTheme() ?? 'dark';
    if (authenticated && savedTheme !== undefined && savedLocale !== undefined) {
      locale = savedLocale;
      theme = savedTheme;
      cacheLocale(savedLocale);
      cacheTheme(savedTheme);
    }
    const language = pickLanguage(locale, browserLanguages());
    if (i18n.language !== language) void i18n.changeLanguage(language);
    applyTheme(theme);
  }, [authenticated, savedLocale, savedTheme]);

  const actions = useMemo<AuthActions>(() => {
    const signedIn = (user: CurrentUser) =>
      setState({ status: 'authenticated', user, sessions: null, sessionExpired: false });

    return {
      async login(input: LoginInput) {
        const res = await authApi.login(input);
        api.setSession(res);
        signedIn(res.user);
      },
      async register(input: RegisterInput) {
        const res = await authApi.register(input);
        api.setSession(res);
        signedIn(res.user);
      },
      async logout() {
        try {
          if (api.hasSession()) await authApi.logout();
        } catch (err) {
          // The local session ends regardless; the server one expires on its own.
          console.warn('papo: logout request failed', err);
        }
        api.clearSession();
        setState(anonymous(false));
      },
      retry: loadMe,
      async updateProfile(patch: UserPatch) {
        const user = await usersApi.updateMe(patch);
        setState((s) => ({ ...s, user }));
        return user;
      },
      async updateSettings(patch: SettingsPatch) {
        const before = stateRef.current.user?.settings;
        if (!before) return;
        // Optimistic: language / theme switch at once, reverted on failure.
        setState((s) => (s.user ? { ...s, user: { ...s.user, settings: mergeSettings(s.user.settings, patch) } } : s));
        try {
          const user = await usersApi.updateMe({ settings: patch });
          setState((s) => ({ ...s, user }));
        } catch (err) {
          setState((s) => (s.user ? { ...s, user: { ...s.user, settings: before } } : s));
          throw err;
        }
      },
      async loadSessions() {
        const sessions: Session[] = await authApi.sessions();
        setState((s) => ({ ...s, sessions }));
      },
      async revokeSession(id: string) {
        await authApi.revokeSession(id);
        setState((s) => ({ ...s, sessions: s.sessions?.filter((x) => x.id !== id) ?? null }));
      },
      async changePassword(input: PasswordChangeInput) {
        await authApi.changePassword(input);
        // Every other session was revoked: the list is stale.
        setState((s) => ({ ...s, sessions: null }));
      },
    };
  }, [loadMe]);

  return (
    <AuthActionsContext.Provider value={actions}>
      <AuthStateContext.Provider value={state}>{children}</AuthStateContext.Provider>
    </AuthActionsContext.Provider>
  );
}

