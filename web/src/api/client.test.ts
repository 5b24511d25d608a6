import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, TOKEN_KEYS } from './client';
import { ApiError } from './errors';
import type { AuthResponse, CurrentUser } from './types';
import { MemoryStorage } from '../testing/memoryStorage';

interface Call {
  url: string;
  method: string;
  authorization: string | null;
  body: unknown;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const user = { id: '1', username: 'ana' } as CurrentUser;

function authResponse(access: string, refresh: string, expiresIn = 900): AuthResponse {
  return { user, access_token: access, refresh_token: refresh, expires_in: expiresIn };
}

function setup(options: { proactiveRefresh?: boolean } = {}) {
  const storage = new MemoryStorage();
  const calls: Call[] = [];
  let handler: (call: Call) => Promise<Response> | Response = () => json(500, {});
  const fetch = vi.fn(async (url: string, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const call: Call = {
      url,
      method: init?.method ?? 'GET',
      authorization: headers.Authorization ?? null,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    return handler(call);
  });
  const client = new ApiClient({
    fetch,
    storage,
    proactiveRefresh: options.proactiveRefresh ?? false,
  });
  const lost = vi.fn();
  client.onAuthLost(lost);
  return {
    client,
    storage,
    calls,
    fetch,
    lost,
    respond(fn: typeof handler) {
      handler = fn;
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ApiClient', () => {
  it('adds the bearer token and parses JSON', async () => {
    const t = setup();
    t.client.setSession(authResponse('a1', 'r1'));
    t.respond(() => json(200, { ok: true }));
    await expect(t.client.request('GET', '/users/@me')).resolves.toEqual({ ok: true });
    expect(t.calls[0]).toMatchObject({ url: '/api/v1/users/@me', authorization: 'Bearer a1' });
  });

  it('stores tokens in storage', () => {
    const t = setup();
    t.client.setSession(authResponse('a1', 'r1'));
    expect(t.storage.getItem(TOKEN_KEYS.access)).toBe('a1');
    expect(t.storage.getItem(TOKEN_KEYS.refresh)).toBe('r1');
    expect(t.client.hasSession()).toBe(true);
  });

  it('refreshes once for two concurrent 401s and retries both calls', async () => {
    const t = setup();
    t.client.setSession(authResponse('old', 'r1'));
    const refreshReply = deferred<Response>();
    t.respond((call) => {
      if (call.url.endsWith('/auth/refresh')) return refreshReply.promise;
      if (call.authorization === 'Bearer old') return json(401, { code: 'unauthorized', message: 'expired' });
      return json(200, { path: call.url });
    });

    const first = t.client.request('GET', '/users/@me');
    const second = t.client.request('GET', '/auth/sessions');
    // Let both original requests fail before the refresh answers.
    await vi.waitFor(() => expect(t.calls.filter((c) => c.authorization === 'Bearer old')).toHaveLength(2));
    refreshReply.resolve(json(200, authResponse('new', 'r2')));

    await expect(first).resolves.toEqual({ path: '/api/v1/users/@me' });
    await expect(second).resolves.toEqual({ path: '/api/v1/auth/sessions' });

    const refreshes = t.calls.filter((c) => c.url.endsWith('/auth/refresh'));
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]?.body).toEqual({ refresh_token: 'r1' });
    expect(refreshes[0]?.authorization).toBeNull();
    expect(t.calls.filter((c) => c.authorization === 'Bearer new').map((c) => c.url).sort()).toEqual([
      '/api/v1/auth/sessions',
      '/api/v1/users/@me',
    ]);
    expect(t.storage.getItem(TOKEN_KEYS.access)).toBe('new');
    expect(t.storage.getItem(TOKEN_KEYS.refresh)).toBe('r2');
    expect(t.lost).not.toHaveBeenCalled();
  });

  it('clears the tokens and reports the lost session when the refresh fails', async () => {
    const t = setup();
    t.client.setSession(authResponse('old', 'r1'));
    t.respond((call) => {
      if (call.url.endsWith('/auth/refresh')) {
        return json(401, { code: 'invalid_refresh_token', message: 'nope' });
      }
      return json(401, { code: 'unauthorized', message: 'expired' });
    });

    const results = await Promise.allSettled([
      t.client.request('GET', '/users/@me'),
      t.client.request('GET', '/auth/sessions'),
    ]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as ApiError;
      expect(reason).toBeInstanceOf(ApiError);
      expect(reason.status).toBe(401);
    }
    expect(t.calls.filter((c) => c.url.endsWith('/auth/refresh'))).toHaveLength(1);
    expect(t.client.hasSession()).toBe(false);
    expect(t.storage.data.size).toBe(0);
    expect(t.lost).toHaveBeenCalledTimes(1);
  });

  it('keeps the tokens when the refresh fails transiently', async () => {
    const t = setup();
    t.client.setSession(authResponse('old', 'r1'));
    t.respond((call) =>
      call.url.endsWith('/auth/refresh')
        ? json(503, { code: 'internal_error', message: 'down' })
        : json(401, { code: 'unauthorized', message: 'expired' }),
    );
    await expect(t.client.request('GET', '/users/@me')).rejects.toMatchObject({ code: 'internal_error' });
    expect(t.client.hasSession()).toBe(true);
    expect(t.lost).not.toHaveBeenCalled();
  });

  it('does not refresh on other 401 codes', async () => {
    const t = setup();
    t.client.setSession(authResponse('a1', 'r1'));
    t.respond(() =>
      json(401, {
        code: 'invalid_password',
        message: 'wrong',
        fields: { current_password: { code: 'invalid_password', message: 'wrong' } },
      }),
    );
    const err = await t.client
      .request('POST', '/auth/password', { body: { current_password: 'x', new_password: 'y' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('invalid_password');
    expect((err as ApiError).fields.current_password?.code).toBe('invalid_password');
    expect(t.calls).toHaveLength(1);
  });

  it('does not retry a request more than once', async () => {
    const t = setup();
    t.client.setSession(authResponse('a1', 'r1'));
    t.respond((call) =>
      call.url.endsWith('/auth/refresh')
        ? json(200, authResponse('a2', 'r2'))
        : json(401, { code: 'unauthorized', message: 'no' }),
    );
    await expect(t.client.request('GET', '/users/@me')).rejects.toMatchObject({ code: 'unauthorized' });
    expect(t.calls.map((c) => c.url)).toEqual(['/api/v1/users/@me', '/api/v1/auth/refresh', '/api/v1/users/@me']);
  });

  it('does not send the token on unauthenticated calls', async () => {
    const t = setup();
    t.client.setSession(authResponse('a1', 'r1'));
    t.respond(() => json(401, { code: 'invalid_credentials', message: 'bad' }));
    await expect(
      t.client.request('POST', '/auth/login', { body: { login: 'a', password: 'b' }, auth: false }),
    ).rejects.toMatchObject({ status: 401, code: 'invalid_credentials' });
    expect(t.calls).toHaveLength(1);
    expect(t.calls[0]?.authorization).toBeNull();
  });

  it('reads rate limits (body retry_after, else Retry-After header)', async () => {
    const t = setup();
    t.respond(() => json(429, { code: 'rate_limited', message: 'slow down', retry_after: 12 }));
    await expect(t.client.request('POST', '/auth/login', { auth: false })).rejects.toMatchObject({
      status: 429,
      code: 'rate_limited',
      retryAfter: 12,
    });
    t.respond(() => json(429, { code: 'rate_limited', message: 'slow down' }, { 'Retry-After': '7' }));
    await expect(t.client.request('POST', '/auth/login', { auth: false })).rejects.toMatchObject({
      retryAfter: 7,
    });
  });

  it('returns undefined for 204 and reports network errors', async () => {
    const t = setup();
    t.client.setSession(authResponse('a1', 'r1'));
    t.respond(() => new Response(null, { status: 204 }));
    await expect(t.client.request('POST', '/auth/logout')).resolves.toBeUndefined();
    t.respond(() => {
      throw new TypeError('Failed to fetch');
    });
    await expect(t.client.request('GET', '/users/@me')).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('signs out by forgetting the tokens before the server revokes them', async () => {
    const t = setup();
    t.client.setSession(authResponse('a1', 'r1'));
    let storedDuringRequest: string | null = 'unset';
    t.respond(() => {
      storedDuringRequest = t.storage.getItem(TOKEN_KEYS.refresh);
      return new Response(null, { status: 204 });
    });
    await expect(t.client.signOut('/auth/logout')).resolves.toBeUndefined();
    expect(t.calls).toHaveLength(1);
    expect(t.calls[0]).toMatchObject({ url: '/api/v1/auth/logout', method: 'POST', authorization: 'Bearer a1' });
    expect(storedDuringRequest).toBeNull();
    expect(t.client.hasSession()).toBe(false);
    expect(t.lost).not.toHaveBeenCalled();
    // Without a session, nothing is sent.
    await t.client.signOut('/auth/logout');
    expect(t.calls).toHaveLength(1);
  });

  it('refreshes proactively shortly before the access token expires', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    const t = setup({ proactiveRefresh: true });
    t.respond(() => json(200, authResponse('a2', 'r2')));
    t.client.setSession(authResponse('a1', 'r1', 900));

    await vi.advanceTimersByTimeAsync(839_000);
    expect(t.fetch).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(t.calls.map((c) => c.url)).toEqual(['/api/v1/auth/refresh']);
    expect(t.storage.getItem(TOKEN_KEYS.access)).toBe('a2');
    t.client.stop();
  });

  it('refreshes before sending when the access token is already expired', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    const t = setup();
    t.client.setSession(authResponse('a1', 'r1', 60));
    vi.setSystemTime(new Date('2025-01-01T00:05:00Z'));
    t.respond((call) =>
      call.url.endsWith('/auth/refresh') ? json(200, authResponse('a2', 'r2')) : json(200, { ok: 1 }),
    );
    await expect(t.client.request('GET', '/users/@me')).resolves.toEqual({ ok: 1 });
    expect(t.calls.map((c) => [c.url, c.authorization])).toEqual([
      ['/api/v1/auth/refresh', null],
      ['/api/v1/users/@me', 'Bearer a2'],
    ]);
  });
});
