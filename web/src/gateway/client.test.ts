import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CurrentUser } from '../api/types';
import { GatewayClient, gatewayUrl, type GatewayState, type GatewayToken, type WebSocketLike } from './client';

/** A WebSocket driven by the test: `receive` plays the server, `sent` records the client. */
class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  readonly sent: { op: string; d: unknown }[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;

  constructor(
    readonly url: string,
    readonly protocols?: string[],
  ) {
    FakeSocket.all.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data) as { op: string; d: unknown });
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  // --- the server side
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  ops(): string[] {
    return this.sent.map((f) => f.op);
  }

  last(): { op: string; d: unknown } | undefined {
    return this.sent[this.sent.length - 1];
  }
}

const user = { id: 'u1', username: 'ana' } as CurrentUser;
const HEARTBEAT = 1_000;
const T0 = Date.parse('2025-01-01T00:00:00Z');

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Most tests drive the `identify` frame (still used to resume, and when a token must be refreshed first); `upgrade` turns on identifying in the upgrade, the app's default. */
function setup(options: { random?: () => number; tokenTtlMs?: number; upgrade?: boolean } = {}) {
  let counter = 1;
  const mint = (): GatewayToken => ({
    accessToken: `a${counter++}`,
    refreshAt: Date.now() + (options.tokenTtlMs ?? 840_000),
    expiresAt: Date.now() + (options.tokenTtlMs ?? 840_000) + 60_000,
  });
  let tokens: GatewayToken | null = mint();
  const auth = {
    token: vi.fn(() => tokens),
    refresh: vi.fn(async () => {
      tokens = mint();
    }),
    lost: vi.fn(),
  };
  const logger = { debug: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const onResync = vi.fn();
  const client = new GatewayClient({
    url: 'ws://papo.test/api/v1/gateway',
    auth,
    createSocket: (url, protocols) => new FakeSocket(url, protocols),
    identifyOnUpgrade: options.upgrade ?? false,
    onResync,
    random: options.random ?? (() => 0.5),
    logger,
  });
  const states: GatewayState[] = [];
  client.on('state', (s) => states.push(s));
  const events: { t: string; s: number }[] = [];
  client.on('event', (e) => events.push({ t: e.t, s: e.s }));
  const ready = vi.fn();
  const resumed = vi.fn();
  client.on('ready', ready);
  client.on('resumed', resumed);

  return {
    client,
    auth,
    logger,
    onResync,
    states,
    events,
    ready,
    resumed,
    setTokens(next: GatewayToken | null) {
      tokens = next;
    },
    failRefresh(clearTokens: boolean) {
      auth.refresh.mockImplementation(async () => {
        if (clearTokens) tokens = null;
        throw new Error('refresh failed');
      });
    },
    socket(): FakeSocket {
      const s = FakeSocket.all[FakeSocket.all.length - 1];
      if (!s) throw new Error('no socket');
      return s;
    },
    sockets: () => FakeSocket.all.length,
    /** Opens the latest socket and answers hello; returns it. */
    async hello(): Promise<FakeSocket> {
      const s = FakeSocket.all[FakeSocket.all.length - 1]!;
      s.open();
      s.receive({ op: 'hello', d: { heartbeat_interval_ms: HEARTBEAT } });
      await flush();
      return s;
    },
    /** Full handshake of a new session on the latest socket. */
    async connect(sessionId = 's1'): Promise<FakeSocket> {
      const s = await this.hello();
      expect(s.last()?.op).toBe('identify');
      s.receive({ op: 'ready', d: { session_id: sessionId, user, presences: [], resume_window_ms: 120_000 } });
      return s;
    },
  };
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('GatewayClient', () => {
  it('builds the URL from the page location', () => {
    expect(gatewayUrl({ protocol: 'http:', host: 'localhost:8080' })).toBe('ws://localhost:8080/api/v1/gateway');
    expect(gatewayUrl({ protocol: 'https:', host: 'chat.example' })).toBe('wss://chat.example/api/v1/gateway');
  });

  it('identifies after hello, then is connected', async () => {
    const t = setup();
    t.client.start();
    expect(t.states).toEqual(['connecting']);
    const s = t.socket();
    expect(s.url).toBe('ws://papo.test/api/v1/gateway');
    s.open();
    await flush();
    expect(s.sent).toEqual([]); // nothing before hello
    s.receive({ op: 'hello', d: { heartbeat_interval_ms: HEARTBEAT } });
    await flush();
    expect(s.sent).toEqual([{ op: 'identify', d: { token: 'a1' } }]);
    s.receive({ op: 'ready', d: { session_id: 's1', user, presences: [] } });
    expect(t.states).toEqual(['connecting', 'connected']);
    expect(t.ready).toHaveBeenCalledWith({ session_id: 's1', user, presences: [] });
    expect(t.client.info()).toMatchObject({ state: 'connected', sessionId: 's1', seq: 0 });
    expect(t.onResync).not.toHaveBeenCalled();
  });

  it('heartbeats every interval with the last seq', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    await vi.advanceTimersByTimeAsync(HEARTBEAT - 1);
    expect(s.ops()).toEqual(['identify']);
    await vi.advanceTimersByTimeAsync(1);
    // No event yet: nothing to acknowledge.
    expect(s.last()).toEqual({ op: 'heartbeat', d: null });
    s.receive({ op: 'heartbeat_ack', d: null });

    s.receive({ op: 'event', t: 'user.updated', d: user, s: 1 });
    s.receive({ op: 'event', t: 'presence.updated', d: { user_id: 'u1', status: 'online', custom_status: null }, s: 2 });
    expect(t.events).toEqual([
      { t: 'user.updated', s: 1 },
      { t: 'presence.updated', s: 2 },
    ]);
    await vi.advanceTimersByTimeAsync(HEARTBEAT);
    expect(s.last()).toEqual({ op: 'heartbeat', d: { seq: 2 } });
    s.receive({ op: 'heartbeat_ack', d: null });
    await vi.advanceTimersByTimeAsync(HEARTBEAT);
    expect(s.ops()).toEqual(['identify', 'heartbeat', 'heartbeat', 'heartbeat']);
    expect(s.closedWith).toBeNull();
  });

  it('treats a missing heartbeat_ack as a dead connection and resumes', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    s.receive({ op: 'event', t: 'user.updated', d: user, s: 1 });
    await vi.advanceTimersByTimeAsync(HEARTBEAT); // heartbeat, never acknowledged
    expect(s.last()?.op).toBe('heartbeat');
    await vi.advanceTimersByTimeAsync(HEARTBEAT);
    expect(s.closedWith?.code).toBe(4000);
    expect(t.client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(250); // backoff with random 0.5: 0.5 · 500 ms
    expect(t.sockets()).toBe(2);
    const s2 = await t.hello();
    expect(s2.sent).toEqual([{ op: 'resume', d: { token: 'a1', session_id: 's1', seq: 1 } }]);
  });

  it('resumes after a drop with the last seq', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    for (let seq = 1; seq <= 3; seq++) s.receive({ op: 'event', t: 'user.updated', d: user, s: seq });
    s.serverClose(1006);
    expect(t.client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(249);
    expect(t.sockets()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.sockets()).toBe(2);

    const s2 = await t.hello();
    expect(s2.sent).toEqual([{ op: 'resume', d: { token: 'a1', session_id: 's1', seq: 3 } }]);
    s2.receive({ op: 'event', t: 'user.updated', d: user, s: 4 });
    s2.receive({ op: 'resumed', d: { replayed: 1 } });
    expect(t.client.info()).toMatchObject({ state: 'connected', sessionId: 's1', seq: 4, resumedCount: 1 });
    expect(t.resumed).toHaveBeenCalledWith({ replayed: 1 });
    expect(t.states).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
    expect(t.onResync).not.toHaveBeenCalled();
    expect(t.events.map((e) => e.s)).toEqual([1, 2, 3, 4]);
  });

  it.each([1000, 1001, 1011, 4003, 4008, 4009, 4010])('resumes after close code %i', async (code) => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    s.receive({ op: 'event', t: 'user.updated', d: user, s: 7 });
    s.serverClose(code);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(t.sockets()).toBe(2);
    const s2 = await t.hello();
    expect(s2.sent).toEqual([{ op: 'resume', d: { token: 'a1', session_id: 's1', seq: 7 } }]);
  });

  it('identifies anew after 4012 (session resumed elsewhere)', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    s.receive({ op: 'event', t: 'user.updated', d: user, s: 2 });
    s.serverClose(4012);
    await vi.advanceTimersByTimeAsync(250);
    const s2 = await t.hello();
    expect(s2.sent).toEqual([{ op: 'identify', d: { token: 'a1' } }]);
  });

  it('pauses after 4008 (rate limited)', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    s.serverClose(4008);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(t.sockets()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.sockets()).toBe(2);
  });

  it('identifies on the same socket and re-syncs after invalid_session', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    s.receive({ op: 'event', t: 'user.updated', d: user, s: 5 });
    s.serverClose(1006);
    await vi.advanceTimersByTimeAsync(250);
    const s2 = await t.hello();
    expect(s2.last()?.op).toBe('resume');
    s2.receive({ op: 'invalid_session', d: { resumable: false } });
    await flush();
    expect(s2.sent).toEqual([
      { op: 'resume', d: { token: 'a1', session_id: 's1', seq: 5 } },
      { op: 'identify', d: { token: 'a1' } },
    ]);
    expect(t.onResync).not.toHaveBeenCalled();
    s2.receive({ op: 'ready', d: { session_id: 's2', user, presences: [] } });
    expect(t.onResync).toHaveBeenCalledTimes(1);
    expect(t.client.info()).toMatchObject({ state: 'connected', sessionId: 's2', seq: 0 });
    // The new session's sequence starts again at 1.
    s2.receive({ op: 'event', t: 'user.updated', d: user, s: 1 });
    expect(t.events.map((e) => e.s)).toEqual([5, 1]);
  });

  it('never reconnects after a deliberate close', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    t.client.close();
    expect(s.closedWith?.code).toBe(1000);
    expect(t.client.state).toBe('offline');
    s.serverClose(1000); // handlers are detached: ignored
    await vi.advanceTimersByTimeAsync(120_000);
    expect(t.sockets()).toBe(1);
    expect(s.ops()).toEqual(['identify']); // no heartbeat after close
    expect(t.states).toEqual(['connecting', 'connected', 'offline']);
  });

  it('cancels a pending reconnect on close', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    s.serverClose(1006);
    t.client.close();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(t.sockets()).toBe(1);
    // ... and can be started again (a new login) with a new session.
    t.client.start();
    expect(t.sockets()).toBe(2);
    await t.connect('s9');
    expect(t.client.info().sessionId).toBe('s9');
  });

  it('on 4001 refreshes the token, then identifies anew', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    s.receive({ op: 'event', t: 'user.updated', d: user, s: 3 });
    s.serverClose(4001);
    await flush();
    expect(t.auth.refresh).toHaveBeenCalledTimes(1);
    expect(t.sockets()).toBe(2);
    const s2 = await t.hello();
    expect(s2.sent).toEqual([{ op: 'identify', d: { token: 'a2' } }]);
    s2.receive({ op: 'ready', d: { session_id: 's2', user, presences: [] } });
    expect(t.onResync).toHaveBeenCalledTimes(1);
    expect(t.auth.lost).not.toHaveBeenCalled();
  });

  it('on 4001 logs out when the refresh is refused', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    t.failRefresh(true);
    s.serverClose(4001);
    await flush();
    expect(t.auth.refresh).toHaveBeenCalledTimes(1);
    expect(t.auth.lost).toHaveBeenCalledTimes(1);
    expect(t.client.state).toBe('offline');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(t.sockets()).toBe(1);
  });

  it('on 4001 retries later when the refresh fails transiently', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    t.failRefresh(false);
    s.serverClose(4001);
    await flush();
    expect(t.auth.lost).not.toHaveBeenCalled();
    expect(t.client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(t.sockets()).toBe(2);
  });

  it('logs out after a 4001 for a freshly refreshed token', async () => {
    const t = setup();
    t.client.start();
    await t.connect();
    t.socket().serverClose(4001);
    await flush();
    const s2 = await t.hello();
    expect(s2.last()).toEqual({ op: 'identify', d: { token: 'a2' } });
    s2.serverClose(4001);
    await flush();
    expect(t.auth.refresh).toHaveBeenCalledTimes(1);
    expect(t.auth.lost).toHaveBeenCalledTimes(1);
    expect(t.client.state).toBe('offline');
  });

  it('refreshes a token that is about to expire before identifying', async () => {
    const t = setup({ tokenTtlMs: 1_000 });
    t.client.start();
    vi.setSystemTime(T0 + 2_000);
    const s = await t.hello();
    expect(t.auth.refresh).toHaveBeenCalledTimes(1);
    expect(s.sent).toEqual([{ op: 'identify', d: { token: 'a2' } }]);
  });

  it('gives up when there is no token at all', async () => {
    const t = setup();
    t.setTokens(null);
    t.client.start();
    await t.hello();
    expect(t.socket().sent).toEqual([]);
    expect(t.auth.lost).toHaveBeenCalledTimes(1);
    expect(t.client.state).toBe('offline');
  });

  it('on 4002 logs an error and starts a new session (no resume)', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    s.receive({ op: 'event', t: 'user.updated', d: user, s: 2 });
    s.serverClose(4002, 'invalid frame');
    expect(t.logger.error).toHaveBeenCalled();
    expect(t.client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(250);
    const s2 = await t.hello();
    expect(s2.sent).toEqual([{ op: 'identify', d: { token: 'a1' } }]);
  });

  it('reconnects with growing, capped, jittered delays and resets after a stable connection', async () => {
    const t = setup({ random: () => 0.99 });
    t.client.start();
    await t.connect();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      const before = t.sockets();
      t.socket().serverClose(1006);
      let waited = 0;
      while (t.sockets() === before) {
        await vi.advanceTimersByTimeAsync(10);
        waited += 10;
      }
      delays.push(waited);
    }
    const expected = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000].map((c) => Math.floor(c * 0.99));
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(expected[i]!);
      expect(d).toBeLessThan(expected[i]! + 10 + 1);
    });

    // A connection that holds for 10 s resets the backoff.
    const s = await t.hello();
    s.receive({ op: 'resumed', d: { replayed: 0 } });
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(HEARTBEAT);
      s.receive({ op: 'heartbeat_ack', d: null });
    }
    expect(s.closedWith).toBeNull();
    const before = t.sockets();
    s.serverClose(1006);
    await vi.advanceTimersByTimeAsync(Math.floor(500 * 0.99));
    expect(t.sockets()).toBe(before + 1);
  });

  it('does not reset the backoff for a connection that drops at once', async () => {
    const t = setup({ random: () => 0.99 });
    t.client.start();
    await t.connect();
    t.socket().serverClose(1006);
    await vi.advanceTimersByTimeAsync(495); // attempt 0
    const s2 = await t.hello();
    s2.receive({ op: 'resumed', d: { replayed: 0 } });
    s2.serverClose(4010);
    await vi.advanceTimersByTimeAsync(989);
    expect(t.sockets()).toBe(2);
    await vi.advanceTimersByTimeAsync(1); // attempt 1: 990 ms
    expect(t.sockets()).toBe(3);
  });

  it('drops a connection that is not identified in time', async () => {
    const t = setup();
    t.client.start();
    t.socket().open(); // but no hello
    await vi.advanceTimersByTimeAsync(30_000);
    expect(t.socket().closedWith?.code).toBe(4000);
    expect(t.client.state).toBe('connecting'); // never connected yet
    await vi.advanceTimersByTimeAsync(250);
    expect(t.sockets()).toBe(2);
  });

  it('sends presence and typing only once identified', async () => {
    const t = setup();
    t.client.start();
    const update = { status: 'dnd' as const, custom_status: { text: 'Focus time' } };
    expect(t.client.updatePresence(update)).toBe(false);
    const s = await t.hello();
    expect(t.client.updatePresence(update)).toBe(false);
    expect(s.ops()).toEqual(['identify']);
    s.receive({ op: 'ready', d: { session_id: 's1', user, presences: [] } });
    expect(t.client.updatePresence(update)).toBe(true);
    expect(t.client.typingStart('c1')).toBe(true);
    expect(s.sent.slice(1)).toEqual([
      { op: 'presence_update', d: update },
      { op: 'typing_start', d: { channel_id: 'c1' } },
    ]);
  });

  it('debugDrop reconnects and resumes', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    t.client.debugDrop();
    expect(s.closedWith?.code).toBe(4000);
    expect(t.client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(250);
    const s2 = await t.hello();
    expect(s2.last()?.op).toBe('resume');
    s2.receive({ op: 'resumed', d: { replayed: 0 } });
    expect(t.client.state).toBe('connected');
  });

  it('ignores malformed frames and reports server errors', async () => {
    const t = setup();
    const errors: unknown[] = [];
    t.client.on('error', (e) => errors.push(e));
    t.client.start();
    const s = await t.connect();
    s.onmessage?.({ data: 'not json' });
    s.receive({ op: 'mystery', d: 1 });
    s.receive({ op: 'error', d: { code: 'validation_failed', message: 'too long' } });
    expect(errors).toEqual([{ code: 'validation_failed', message: 'too long' }]);
    expect(t.client.state).toBe('connected');
    expect(s.closedWith).toBeNull();
  });

  it('sends messages over the socket and settles them by nonce', async () => {
    const t = setup();
    expect(t.client.sendMessage({ channel_id: 'c1', content: 'hi', nonce: 'n0' })).toBeNull(); // not started
    t.client.start();
    const s = await t.connect();
    const first = t.client.sendMessage({ channel_id: 'c1', content: 'hi', nonce: 'n1' });
    const second = t.client.sendMessage({ channel_id: 'c1', content: '', nonce: 'n2' });
    expect(s.sent.slice(-2)).toEqual([
      { op: 'message_create', d: { channel_id: 'c1', content: 'hi', nonce: 'n1' } },
      { op: 'message_create', d: { channel_id: 'c1', content: '', nonce: 'n2' } },
    ]);
    // Answers may come in any order; an error without a nonce is not a send's.
    s.receive({ op: 'error', d: { code: 'not_found', message: 'Unknown channel.' } });
    s.receive({
      op: 'error',
      d: { nonce: 'n2', code: 'validation_failed', message: 'bad', fields: { content: { code: 'too_short', message: 'x' } } },
    });
    s.receive({ op: 'message_ack', d: { nonce: 'n1', created: true, message: { id: '9', content: 'hi' } } });
    await expect(first).resolves.toEqual({ id: '9', content: 'hi' });
    await expect(second).rejects.toMatchObject({ status: 422, code: 'validation_failed', fields: { content: { code: 'too_short' } } });
    expect(t.logger.warn).toHaveBeenCalledTimes(1); // only the unrelated error
  });

  it('fails sends whose socket goes away, and those left unanswered', async () => {
    const t = setup();
    t.client.start();
    const s = await t.connect();
    const lost = t.client.sendMessage({ channel_id: 'c1', content: 'hi', nonce: 'n1' });
    s.serverClose(1006);
    await expect(lost).rejects.toMatchObject({ name: 'GatewaySendLost' });
    expect(t.client.sendMessage({ channel_id: 'c1', content: 'hi', nonce: 'n2' })).toBeNull(); // reconnecting
    vi.advanceTimersByTime(60_000);
    await flush();
    const s2 = t.socket();
    s2.open();
    s2.receive({ op: 'hello', d: { heartbeat_interval_ms: 60_000 } });
    await flush();
    s2.receive({ op: 'resumed', d: { replayed: 0 } });
    const silent = t.client.sendMessage({ channel_id: 'c1', content: 'hi', nonce: 'n3' });
    expect(silent).not.toBeNull();
    const settled = expect(silent).rejects.toMatchObject({ name: 'GatewaySendLost' });
    vi.advanceTimersByTime(15_000);
    await settled;
  });
});

describe('GatewayClient noticing a stalled server', () => {
  it('probes with a heartbeat when a send hears nothing back, and drops the connection if that goes unanswered', async () => {
    const t = setup();
    t.client.start();
    // The interval's heartbeats far apart (a minute).
    const s = t.socket();
    s.open();
    s.receive({ op: 'hello', d: { heartbeat_interval_ms: 60_000 } });
    await flush();
    s.receive({ op: 'ready', d: { session_id: 's1', user, presences: [] } });
    // The server answers the probe: all is well.
    const answered = t.client.sendMessage({ channel_id: 'c1', content: 'a', nonce: 'n1' });
    answered?.catch(() => {});
    await vi.advanceTimersByTimeAsync(2_999);
    expect(s.last()?.op).toBe('message_create');
    await vi.advanceTimersByTimeAsync(1);
    expect(s.last()?.op).toBe('heartbeat');
    s.receive({ op: 'heartbeat_ack', d: null });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(s.closedWith).toBeNull();
    // Anything heard after a send means the server is there: no probe.
    t.client.sendMessage({ channel_id: 'c1', content: 'b', nonce: 'n2' })?.catch(() => {});
    s.receive({ op: 'message_ack', d: { nonce: 'n2', created: true, message: { id: '2' } } });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(s.last()?.op).toBe('message_create');
    // Silence after a send and after the probe: dropped 13 s after the send (the banner shows
    // "reconnecting"), not at the next interval.
    const silent = t.client.sendMessage({ channel_id: 'c1', content: 'c', nonce: 'n3' });
    const lost = expect(silent).rejects.toMatchObject({ name: 'GatewaySendLost' });
    await vi.advanceTimersByTimeAsync(12_999);
    expect(s.closedWith).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(s.closedWith?.code).toBe(4000);
    expect(t.client.state).toBe('reconnecting');
    await lost;
  });
});

describe('GatewayClient identifying in the upgrade', () => {
  it('offers a fresh token as a subprotocol and sends no identify frame', async () => {
    const t = setup({ upgrade: true });
    t.client.start();
    const s = t.socket();
    expect(s.protocols).toEqual(['papo.v1', 'papo.token.a1']);
    s.open();
    s.receive({ op: 'hello', d: { heartbeat_interval_ms: HEARTBEAT } });
    await flush();
    expect(s.sent).toEqual([]);
    s.receive({ op: 'ready', d: { session_id: 's1', user, presences: [] } });
    expect(t.client.info()).toMatchObject({ state: 'connected', sessionId: 's1' });
    // Heartbeats start at once: the session is identified.
    await vi.advanceTimersByTimeAsync(HEARTBEAT);
    expect(s.ops()).toEqual(['heartbeat']);
  });

  it('resumes with a frame, offering no token', async () => {
    const t = setup({ upgrade: true });
    t.client.start();
    const s = t.socket();
    s.open();
    s.receive({ op: 'hello', d: { heartbeat_interval_ms: HEARTBEAT } });
    s.receive({ op: 'ready', d: { session_id: 's1', user, presences: [] } });
    s.receive({ op: 'event', t: 'user.updated', d: user, s: 4 });
    s.serverClose(1006);
    await vi.advanceTimersByTimeAsync(30_000);
    const s2 = t.socket();
    expect(s2).not.toBe(s);
    expect(s2.protocols).toBeUndefined();
    await t.hello();
    expect(s2.sent).toEqual([{ op: 'resume', d: { token: 'a1', session_id: 's1', seq: 4 } }]);
  });

  it('refreshes a token about to expire first, then identifies with a frame', async () => {
    const t = setup({ upgrade: true, tokenTtlMs: 1_000 });
    vi.setSystemTime(T0 + 2_000);
    t.client.start();
    const s = t.socket();
    expect(s.protocols).toBeUndefined();
    await t.hello();
    expect(t.auth.refresh).toHaveBeenCalledTimes(1);
    expect(s.sent).toEqual([{ op: 'identify', d: { token: 'a2' } }]);
  });

  it('on 4001 for an offered token refreshes it and offers the new one', async () => {
    const t = setup({ upgrade: true });
    t.client.start();
    const s = await t.hello();
    s.serverClose(4001);
    await flush();
    expect(t.auth.refresh).toHaveBeenCalledTimes(1);
    const s2 = t.socket();
    expect(s2).not.toBe(s);
    expect(s2.protocols).toEqual(['papo.v1', 'papo.token.a2']);
    await t.hello();
    expect(s2.sent).toEqual([]);
    s2.receive({ op: 'ready', d: { session_id: 's2', user, presences: [] } });
    expect(t.client.state).toBe('connected');
    expect(t.auth.lost).not.toHaveBeenCalled();
  });
});
