import { ApiError } from './errors';
import type { AuthResponse } from './types';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The subset of the Web Locks API we use to serialise refreshes across tabs. */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

export const TOKEN_KEYS = {
  access: 'papo.access_token',
  refresh: 'papo.refresh_token',
  expiresAt: 'papo.access_expires_at',
  refreshAt: 'papo.access_refresh_at',
} as const;

export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  /** epoch ms when the access token expires */
  expiresAt: number;
  /** epoch ms when we want to refresh it proactively */
  refreshAt: number;
}

/** Access + refresh tokens persisted in localStorage (or any StorageLike). */
export class TokenStore {
  constructor(private readonly storage: StorageLike | null) {}

  get(): StoredTokens | null {
    const accessToken = this.read(TOKEN_KEYS.access);
    const refreshToken = this.read(TOKEN_KEYS.refresh);
    if (!accessToken || !refreshToken) return null;
    const expiresAt = Number(this.read(TOKEN_KEYS.expiresAt));
    const refreshAtRaw = Number(this.read(TOKEN_KEYS.refreshAt));
    const safeExpiresAt = Number.isFinite(expiresAt) ? expiresAt : 0;
    return {
      accessToken,
      refreshToken,
      expiresAt: safeExpiresAt,
      refreshAt: Number.isFinite(refreshAtRaw) && refreshAtRaw > 0 ? refreshAtRaw : safeExpiresAt,
    };
  }

  set(tokens: StoredTokens): void {
    this.write(TOKEN_KEYS.access, tokens.accessToken);
    this.write(TOKEN_KEYS.refresh, tokens.refreshToken);
    this.write(TOKEN_KEYS.expiresAt, String(tokens.expiresAt));
    this.write(TOKEN_KEYS.refreshAt, String(tokens.refreshAt));
  }

  clear(): void {
    for (const key of Object.values(TOKEN_KEYS)) {
      try {
        this.storage?.removeItem(key);
      } catch {
        /* storage unavailable */
      }
    }
  }

  private read(key: string): string | null {
    try {
      return this.storage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  }

  private write(key: string, value: string): void {
    try {
      this.storage?.setItem(key, value);
    } catch {
      /* storage full or unavailable: tokens live for this page only */
    }
  }
}

export interface ApiClientOptions {
  /** Prefix of every route, default `/api/v1`. */
  baseUrl?: string;
  fetch?: FetchLike;
  storage?: StorageLike | null;
  now?: () => number;
  /** Refresh shortly before the access token expires (default true). */
  proactiveRefresh?: boolean;
  /** Web Locks, to keep two tabs from spending the same refresh token. */
  locks?: LockManagerLike | null;
}

export interface RequestOptions {
  body?: unknown;
  /** Send the Bearer token and refresh on 401 (default true). */
  auth?: boolean;
  signal?: AbortSignal;
  /** Extra request headers (e.g. `X-Audit-Log-Reason`). */
  headers?: Record<string, string>;
}

const MAX_TIMEOUT_MS = 2_147_483_647;
const RETRY_BACKGROUND_REFRESH_MS = 30_000;

/**
 * Refresh this long before expiry: 20 % of the lifetime, capped to one minute.
 * A 15 minute token is refreshed after 14 minutes; a 10 s token after 8 s.
 */
export function refreshMargin(lifetimeMs: number): number {
  return Math.min(60_000, Math.floor(lifetimeMs * 0.2));
}

export class ApiClient {
  readonly tokens: TokenStore;
  private readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly now: () => number;
  private readonly proactive: boolean;
  private readonly locks: LockManagerLike | null;
  private refreshing: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly authLostListeners = new Set<() => void>();

  constructor(options: ApiClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? '/api/v1';
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.tokens = new TokenStore(options.storage ?? null);
    this.now = options.now ?? (() => Date.now());
    this.proactive = options.proactiveRefresh ?? true;
    this.locks = options.locks ?? null;
  }

  /** Called when the session is gone for good (refresh failed): go to /login. */
  onAuthLost(listener: () => void): () => void {
    this.authLostListeners.add(listener);
    return () => this.authLostListeners.delete(listener);
  }

  hasSession(): boolean {
    return this.tokens.get() !== null;
  }

  /** Stores the token pair of a login / register / refresh answer. */
  setSession(auth: AuthResponse): void {
    const now = this.now();
    const lifetime = Math.max(0, auth.expires_in) * 1000;
    this.tokens.set({
      accessToken: auth.access_token,
      refreshToken: auth.refresh_token,
      expiresAt: now + lifetime,
      refreshAt: now + lifetime - refreshMargin(lifetime),
    });
    this.schedule();
  }

  /** Forgets the tokens locally (no network). */
  clearSession(): void {
    this.cancelTimer();
    this.tokens.clear();
  }

  /** (Re)arms the proactive refresh timer from the stored tokens. */
  schedule(delayOverride?: number): void {
    this.cancelTimer();
    if (!this.proactive) return;
    const tokens = this.tokens.get();
    if (!tokens) return;
    const delay = delayOverride ?? Math.max(0, tokens.refreshAt - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh().catch((err: unknown) => {
        // Transient failure (network, 5xx, 429): try again later. A rejected
        // refresh token has already cleared the session in runRefresh().
        if (this.hasSession() && !(err instanceof ApiError && isFatalRefreshError(err))) {
          this.schedule(RETRY_BACKGROUND_REFRESH_MS);
        }
      });
    }, Math.min(delay, MAX_TIMEOUT_MS));
  }

  stop(): void {
    this.cancelTimer();
  }

  /**
   * Signs this session out: forgets the tokens here first, so that other tabs see a logout
   * before the server ends the session (and closes their sockets, which read as the session
   * lost), then asks the server at `path` to revoke them. Resolves once the server answered;
   * the tokens are gone here either way.
   */
  async signOut(path: string): Promise<void> {
    let tokens = this.tokens.get();
    if (!tokens) return;
    if (tokens.expiresAt <= this.now()) {
      try {
        await this.refresh();
      } catch {
        // Signed out here regardless; the server's session expires on its own.
      }
      tokens = this.tokens.get();
      if (!tokens) return;
    }
    this.clearSession();
    await this.parse<void>(await this.send('POST', path, {}, tokens.accessToken));
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const auth = options.auth ?? true;
    if (!auth) {
      return this.parse<T>(await this.send(method, path, options, null));
    }

    let tokens = this.tokens.get();
    if (!tokens) {
      throw new ApiError({ status: 401, code: 'unauthorized', message: 'Not logged in' });
    }
    if (tokens.expiresAt <= this.now()) {
      // Known to be expired: skip the doomed request.
      await this.refresh();
      tokens = this.tokens.get() ?? tokens;
    }

    let res = await this.send(method, path, options, tokens.accessToken);
    if (res.status === 401) {
      const err = await ApiError.fromResponse(res);
      if (err.code !== 'unauthorized') throw err;
      const current = this.tokens.get();
      if (!current) throw err;
      if (current.accessToken === tokens.accessToken) {
        // Nobody refreshed since we sent the request: refresh (shared with
        // any concurrent caller), then retry once.
        await this.refresh();
      }
      const next = this.tokens.get();
      if (!next) throw err;
      res = await this.send(method, path, options, next.accessToken);
    }
    return this.parse<T>(res);
  }

  /**
   * Exchanges the refresh token for a new pair. Concurrent callers share one
   * request. Rejects with the ApiError; a rejected refresh token clears the
   * session and notifies the auth-lost listeners.
   */
  refresh(): Promise<void> {
    if (!this.refreshing) {
      const spent = this.tokens.get()?.refreshToken ?? null;
      const run = this.locks
        ? this.locks.request('papo-token-refresh', () => this.runRefresh(spent))
        : this.runRefresh(spent);
      this.refreshing = run.finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async runRefresh(spent: string | null): Promise<void> {
    const tokens = this.tokens.get();
    if (!tokens) {
      this.loseSession();
      throw new ApiError({ status: 401, code: 'unauthorized', message: 'Not logged in' });
    }
    if (spent !== null && tokens.refreshToken !== spent) {
      // Another tab refreshed while we waited for the lock.
      this.schedule();
      return;
    }
    let res: Response;
    try {
      res = await this.fetchImpl(this.baseUrl + '/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ refresh_token: tokens.refreshToken }),
        credentials: 'same-origin',
      });
    } catch (cause) {
      throw ApiError.network(cause);
    }
    if (!res.ok) {
      const err = await ApiError.fromResponse(res);
      if (isFatalRefreshError(err)) this.loseSession();
      throw err;
    }
    const data = (await res.json()) as AuthResponse;
    this.setSession(data);
  }

  private loseSession(): void {
    this.clearSession();
    for (const listener of [...this.authLostListeners]) {
      try {
        listener();
      } catch {
        /* a listener must not break the others */
      }
    }
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    accessToken: string | null,
  ): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers, Accept: 'application/json' };
    const init: RequestInit = { method, headers, credentials: 'same-origin' };
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
    if (options.signal) init.signal = options.signal;
    try {
      return await this.fetchImpl(this.baseUrl + path, init);
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
      throw ApiError.network(cause);
    }
  }

  private async parse<T>(res: Response): Promise<T> {
    if (!res.ok) throw await ApiError.fromResponse(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}

/**
 * The refresh token itself was refused (401 invalid_refresh_token, or any
 * other 4xx except rate limiting): the session cannot be recovered.
 * Network errors, 429 and 5xx are transient and keep the tokens.
 */
export function isFatalRefreshError(err: ApiError): boolean {
  return err.status >= 400 && err.status < 500 && err.status !== 429;
}
