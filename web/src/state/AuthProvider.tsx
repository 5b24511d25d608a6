import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, authApi, channelsApi, isApiError, serversApi, usersApi } from '../api';
import { normalizeChannel, normalizeServerDetail } from '../api/guards';
import type {
  ChannelCreateInput,
  ChannelPatch,
  CurrentUser,
  LoginInput,
  PasswordChangeInput,
  RegisterInput,
  Session,
  Settings,
  ServerPatch,
  SettingsPatch,
  UserPatch,
} from '../api';
import { TOKEN_KEYS } from '../api/client';
import { gateway, gatewayHooks } from '../gateway';
import { choiceOf, expiryOf, normalizePresence, presenceMap, takeStoredChoice } from '../gateway/presence';
import { isPresence, type Presence, type PresenceUpdate } from '../gateway/protocol';
import i18n from '../i18n';
import { isLocale } from '../i18n/language';
import { browserLanguages, pickLanguage } from '../i18n/language';
import { cacheLocale, cacheTheme, readCachedLocale, readCachedTheme } from '../preferences';
import { clearDrafts } from './drafts';
import { applyTheme } from '../theme';
import { markOwnRemoval } from './removals';
import { AuthActionsContext, AuthStateContext, type AuthActions, type AuthState } from './context';
import { actionForEvent, serversReducer, type ServerAction } from './servers';
import { chat } from './chat';

/** The state kept; `presenceChoice` is read from the user's settings as it is handed out. */
type StoredState = Omit<AuthState, 'presenceChoice'>;

const anonymous = (sessionExpired: boolean): StoredState => ({
  status: 'anonymous',
  user: null,
  sessions: null,
  sessionExpired,
  presences: {},
  connection: 'offline',
  servers: null,
});

/** If the gateway has not said `ready` by then, load the servers over REST. */
const SERVERS_REST_FALLBACK_MS = 4_000;

function browserStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** The user from the gateway replaces ours (kept field by field if the payload is partial). */
function mergeUser(current: CurrentUser | null, incoming: unknown): CurrentUser | null {
  if (!current || typeof incoming !== 'object' || incoming === null) return current;
  const next = incoming as Partial<CurrentUser>;
  if (next.id !== current.id) return current;
  return { ...current, ...next, settings: next.settings ?? current.settings };
}

const MAX_TIMEOUT_MS = 2_147_483_647;

/** Deleting something that is already gone (404) counts as done. */
async function ignoreNotFound(request: Promise<void>): Promise<void> {
  try {
    await request;
  } catch (err) {
    if (!(isApiError(err) && err.status === 404)) throw err;
  }
}

function mergeSettings(settings: Settings, patch: SettingsPatch): Settings {
  return {
    ...settings,
    ...(patch.locale !== undefined ? { locale: patch.locale } : {}),
    ...(patch.theme !== undefined ? { theme: patch.theme } : {}),
    ...(patch.status !== undefined ? { status: patch.status } : {}),
    ...(patch.custom_status !== undefined ? { custom_status: patch.custom_status } : {}),
    privacy: { ...settings.privacy, ...patch.privacy },
    audio_video: { ...settings.audio_video, ...patch.audio_video },
  };
}

/**
 * Holds all server state of the app (the current user and their sessions)
 * and the actions that change it. Components read it through useAuth().
 */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<StoredState>(() =>
    api.hasSession() ? { ...anonymous(false), status: 'loading' } : anonymous(false),
  );
  const stateRef = useRef(state);
  stateRef.current = state;

  /** Applies a change to the server list (from the gateway or from our own REST calls). */
  const dispatchServers = useCallback((action: ServerAction) => {
    setState((s) => {
      const servers = serversReducer(s.servers, action);
      return servers === s.servers ? s : { ...s, servers };
    });
  }, []);

  /** Saves a presence choice in the settings: shown at once, undone if the server refuses it. */
  const savePresence = useCallback(async (update: PresenceUpdate) => {
    const user = stateRef.current.user;
    if (!user) return;
    const before = { settings: user.settings, own: stateRef.current.presences[user.id] };
    const patch: SettingsPatch = { status: update.status, custom_status: update.custom_status };
    const own: Presence = { user_id: user.id, status: update.status, custom_status: update.custom_status };
    // The server's presence.updated (the aggregate of all sessions) follows.
    setState((s) =>
      s.user
        ? {
            ...s,
            user: { ...s.user, settings: mergeSettings(s.user.settings, patch) },
            presences: { ...s.presences, [user.id]: own },
          }
        : s,
    );
    try {
      const saved = await usersApi.updateMe({ settings: patch });
      setState((s) => ({ ...s, user: saved }));
    } catch (err) {
      setState((s) => {
        if (!s.user) return s;
        const presences = { ...s.presences };
        if (before.own) presences[user.id] = before.own;
        else delete presences[user.id];
        return { ...s, user: { ...s.user, settings: before.settings }, presences };
      });
      throw err;
    }
  }, []);

  const loadMe = useCallback(async () => {
    if (!api.hasSession()) {
      setState((s) => anonymous(s.sessionExpired));
      return;
    }
    setState((s) => ({ ...s, status: 'loading' }));
    try {
      const user = await usersApi.me();
      setState((s) => ({ ...s, status: 'authenticated', user, sessions: null, sessionExpired: false }));
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

  // The real-time gateway runs while logged in.
  const userId = state.status === 'authenticated' ? (state.user?.id ?? null) : null;
  useEffect(() => {
    if (userId === null) return;

    /** Moves the choice an older version kept on this device into the settings, once. */
    const moveStoredChoice = (user: CurrentUser) => {
      const now = Date.now();
      const stored = takeStoredChoice(browserStorage(), userId, now);
      const saved = choiceOf(user.settings, now);
      const isDefault = (c: PresenceUpdate) => c.status === 'online' && c.custom_status === null;
      if (stored === null || isDefault(stored) || !isDefault(saved)) return;
      savePresence(stored).catch((err: unknown) => console.warn('papo: could not save the status', err));
    };

    gatewayHooks.onResync = () => {
      // A new session replaced a lost one: events may have been missed.
      chat.resync();
      usersApi
        .me()
        .then((user) => setState((s) => (s.status === 'authenticated' ? { ...s, user, sessions: null } : s)))
        .catch((err: unknown) => console.warn('papo: re-sync failed', err));
    };
    gatewayHooks.lost = () => {
      clearDrafts();
      api.clearSession();
      setState(anonymous(true));
    };

    const offs = [
      // The chat store (messages, read states) lives outside this state; it forgets everything on cleanup.
      chat.attach(() => ({ user: stateRef.current.user, servers: stateRef.current.servers ?? [] })),
      gateway.on('state', (connection) => {
        setState((s) => ({ ...s, connection }));
        if (connection === 'connected') chat.connected();
      }),
      gateway.on('ready', (ready) => {
        // The session started with the presence saved in the settings.
        const presences = presenceMap(ready.presences);
        // A (new) session: its server list replaces ours, events missed before it included.
        const servers = serversReducer(null, { type: 'servers.loaded', servers: ready.servers ?? [] });
        setState((s) => ({ ...s, user: mergeUser(s.user, ready.user), presences, servers }));
        chat.ready(ready.read_states);
        moveStoredChoice(ready.user);
      }),
      gateway.on('resumed', (resumed) => {
        // Presence changes are not replayed: the server sends the presences as they are now.
        const { presences } = resumed;
        if (presences) setState((s) => ({ ...s, presences: presenceMap(presences) }));
        // A session back after the offline grace has its status but not its custom status.
        gateway.updatePresence(choiceOf(stateRef.current.user?.settings, Date.now()));
      }),
      gateway.on('event', ({ t, d }) => {
        chat.handleEvent(t, d);
        switch (t) {
          case 'user.updated':
            setState((s) => ({ ...s, user: mergeUser(s.user, d) }));
            break;
          case 'presence.updated':
            if (isPresence(d)) {
              const presence = normalizePresence(d);
              setState((s) => ({ ...s, presences: { ...s.presences, [presence.user_id]: presence } }));
            }
            break;
          default: {
            const action = actionForEvent(t, d, stateRef.current.user?.id);
            if (action) dispatchServers(action);
            break;
          }
        }
      }),
    ];

    // Without the gateway's `ready` (slow or blocked WebSocket), load the servers over REST.
    let fallbackCancelled = false;
    const fallback = setTimeout(() => {
      if (stateRef.current.servers !== null) return;
      void (async () => {
        try {
          const mine = await serversApi.mine();
          const details = await Promise.all(mine.map((server) => serversApi.get(server.id).catch(() => null)));
          if (fallbackCancelled) return;
          const loaded = details.filter((d) => d !== null).map(normalizeServerDetail);
          // Only if `ready` has still not filled the list: the gateway's copy is the live one.
          setState((s) =>
            s.servers === null ? { ...s, servers: serversReducer(null, { type: 'servers.loaded', servers: loaded }) } : s,
          );
        } catch (err) {
          console.warn('papo: could not load the servers', err);
        }
      })();
    }, SERVERS_REST_FALLBACK_MS);

    gateway.start();
    return () => {
      fallbackCancelled = true;
      clearTimeout(fallback);
      gateway.close();
      for (const off of offs) off();
      gatewayHooks.onResync = () => {};
      gatewayHooks.lost = () => {};
      setState((s) => ({ ...s, connection: 'offline', servers: null }));
    };
  }, [userId, dispatchServers, savePresence]);

  // Clear the custom status when its time is up (every device of the user does; the first
  // one's save reaches the others).
  const customExpiry = expiryOf(state.user?.settings.custom_status);
  useEffect(() => {
    if (userId === null || customExpiry === null) return;
    const timer = setTimeout(
      () => {
        const settings = stateRef.current.user?.settings;
        if (!settings || expiryOf(settings.custom_status) !== customExpiry) return;
        savePresence({ status: choiceOf(settings, Date.now()).status, custom_status: null }).catch((err: unknown) =>
          console.warn('papo: could not clear the custom status', err),
        );
      },
      Math.min(MAX_TIMEOUT_MS, Math.max(0, customExpiry - Date.now())),
    );
    return () => clearTimeout(timer);
  }, [userId, customExpiry, savePresence]);

  // Language and theme follow the user's saved settings (or this device's last ones).
  const savedLocale = state.user?.settings.locale;
  const savedTheme = state.user?.settings.theme;
  const authenticated = state.status === 'authenticated';
  useEffect(() => {
    let locale = readCachedLocale();
    let theme = readCachedTheme() ?? 'system';
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
      setState({ ...anonymous(false), status: 'authenticated', user });

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
        // First, so that the revoked token does not look like a dropped connection.
        gateway.close();
        clearDrafts();
        try {
          // Forgets the tokens before the server revokes them (other tabs: a logout).
          await authApi.logout();
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
      async revokeOtherSessions() {
        await authApi.revokeOtherSessions();
        setState((s) => ({ ...s, sessions: s.sessions?.filter((x) => x.current) ?? null }));
      },
      async changePassword(input: PasswordChangeInput) {
        await authApi.changePassword(input);
        // Every other session was revoked: the list is stale.
        setState((s) => ({ ...s, sessions: null }));
      },
      setPresence: savePresence,
      async createServer(name: string) {
        // Its default channels are named in the language the user sees (#geral in Portuguese).
        const locale = isLocale(i18n.language) ? i18n.language : undefined;
        const server = normalizeServerDetail(await serversApi.create({ name, locale }));
        dispatchServers({ type: 'server.upsert', server });
        return server;
      },
      async updateServer(serverId: string, patch: ServerPatch) {
        const server = await serversApi.update(serverId, patch);
        dispatchServers({ type: 'server.updated', server });
        return server;
      },
      async deleteServer(serverId: string) {
        markOwnRemoval(serverId);
        await ignoreNotFound(serversApi.remove(serverId));
        dispatchServers({ type: 'server.deleted', id: serverId });
      },
      async leaveServer(serverId: string) {
        markOwnRemoval(serverId);
        await ignoreNotFound(serversApi.leave(serverId));
        dispatchServers({ type: 'server.deleted', id: serverId });
      },
      async createChannel(serverId: string, input: ChannelCreateInput) {
        const channel = normalizeChannel(await channelsApi.create(serverId, input));
        dispatchServers({ type: 'channel.upsert', channel });
        return channel;
      },
      async updateChannel(channelId: string, patch: ChannelPatch) {
        const channel = normalizeChannel(await channelsApi.update(channelId, patch));
        dispatchServers({ type: 'channel.upsert', channel });
        return channel;
      },
      applyServerAction: dispatchServers,
      async deleteChannel(channel) {
        markOwnRemoval(channel.id);
        await ignoreNotFound(channelsApi.remove(channel.id));
        dispatchServers({ type: 'channel.deleted', id: channel.id, server_id: channel.server_id });
      },
    };
  }, [loadMe, dispatchServers, savePresence]);

  // The presence chosen is the one saved in the settings (a custom status hidden once expired;
  // the timer above saves its clearing, which renders this again).
  const value = useMemo<AuthState>(
    () => ({ ...state, presenceChoice: choiceOf(state.user?.settings, Date.now()) }),
    [state],
  );

  return (
    <AuthActionsContext.Provider value={actions}>
      <AuthStateContext.Provider value={value}>{children}</AuthStateContext.Provider>
    </AuthActionsContext.Provider>
  );
}

