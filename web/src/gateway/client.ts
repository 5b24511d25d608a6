// The gateway connection (docs/gateway.md): one WebSocket, hello → identify /
// resume (a new session identifies in the upgrade itself), heartbeats, sequence
// tracking, reconnects with backoff. No React.

import { backoffDelay, type BackoffOptions } from './backoff';
import {
  encodeFrame,
  parseFrame,
  type ClientFrame,
  type DispatchEvent,
  type GatewayErrorData,
  type MessageCreateData,
  type PresenceUpdate,
  type ReadyData,
  type ResumedData,
  type ServerFrame,
} from './protocol';
import { PendingSends } from './sends';

export type GatewayState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** The part of the browser WebSocket we use (a fake one in tests). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

const WS_OPEN = 1;
/** The subprotocol of this gateway, and the one that carries an access token. */
const PROTOCOL = 'papo.v1';
const TOKEN_PROTOCOL = 'papo.token.';

export interface GatewayToken {
  accessToken: string;
  /** epoch ms: from here on the token counts as "about to expire" */
  refreshAt: number;
  /** epoch ms */
  expiresAt: number;
}

/** How the gateway gets (and renews) its credentials: the API client's token store. */
export interface GatewayAuth {
  /** The current access token, or null when logged out. */
  token(): GatewayToken | null;
  /** Renews the tokens; rejects on failure. A refused refresh token also clears them. */
  refresh(): Promise<void>;
  /** The session is gone for good: log out locally. */
  lost(): void;
}

export interface GatewayEventMap {
  state: GatewayState;
  ready: ReadyData;
  resumed: ResumedData;
  event: DispatchEvent;
  error: GatewayErrorData;
}

type Listener<K extends keyof GatewayEventMap> = (payload: GatewayEventMap[K]) => void;

export interface GatewayLogger {
  debug(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export interface GatewayClientOptions {
  /** ws(s)://host/api/v1/gateway, or a function computing it at connect time. */
  url: string | (() => string);
  auth: GatewayAuth;
  createSocket?: (url: string, protocols?: string[]) => WebSocketLike;
  /**
   * Identify a new session in the upgrade request (the `papo.token.…` subprotocol) when the
   * token is fresh, so that `ready` comes with `hello`, a round trip sooner (default true);
   * false: always with an `identify` frame.
   */
  identifyOnUpgrade?: boolean;
  /** After a new session replaced a lost one (events may have been missed): re-fetch over REST. */
  onResync?: () => void;
  backoff?: BackoffOptions;
  /** A connection that stays up this long resets the backoff (default 10 s). */
  stableAfterMs?: number;
  /** Give up on a connection that is not identified after this long (default 30 s). */
  connectTimeoutMs?: number;
  /** Wait at least this long after 4008 (rate limited) / 4011 (too many connections). */
  rateLimitPauseMs?: number;
  /** A message sent over the socket with no answer after this long is given up (default 15 s). */
  sendTimeoutMs?: number;
  /**
   * Nothing heard this long after a send (its answer is due in milliseconds): a heartbeat
   * asks whether the server is still there (default 3 s).
   */
  probeAfterMs?: number;
  /**
   * A heartbeat not acknowledged after this long: the connection is dropped (default 10 s:
   * an ack may wait behind events on a slow link).
   */
  ackTimeoutMs?: number;
  random?: () => number;
  now?: () => number;
  logger?: GatewayLogger;
}

/** Close codes of docs/gateway.md. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  AuthFailed: 4001,
  InvalidFrame: 4002,
  /** No identify or resume in time (a throttled tab): connect again, the token is fine. */
  IdentifyTimeout: 4003,
  RateLimited: 4008,
  HeartbeatTimeout: 4009,
  SlowConsumer: 4010,
  TooManyConnections: 4011,
  /** Another connection resumed this session. */
  SessionReplaced: 4012,
  /** Sent by this client when it gives up on a connection it still wants to resume. */
  ClientDrop: 4000,
} as const;

export interface GatewayInfo {
  state: GatewayState;
  sessionId: string | null;
  seq: number;
  readyCount: number;
  resumedCount: number;
}

export class GatewayClient {
  private readonly opts: GatewayClientOptions;
  private readonly log: GatewayLogger;
  private readonly listeners: { [K in keyof GatewayEventMap]: Set<Listener<K>> } = {
    state: new Set(),
    ready: new Set(),
    resumed: new Set(),
    event: new Set(),
    error: new Set(),
  };

  private running = false;
  private socket: WebSocketLike | null = null;
  /** Bumped for every socket; callbacks of older sockets are ignored. */
  private generation = 0;
  private currentState: GatewayState = 'offline';
  private everConnected = false;
  private established = false;
  private authSent = false;

  private sessionId: string | null = null;
  private seq = 0;
  /** A session was lost: the next `ready` triggers onResync(). */
  private needsResync = false;
  /** We refreshed after a 4001 and have not been identified since. */
  private refreshedAfterAuthFailure = false;

  private attempt = 0;
  private awaitingAck = false;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  /** The heartbeat sent is not acknowledged in time: drop. */
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  /** A send is waiting for its answer and nothing has been heard since: probe. */
  private probeTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private stableTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;

  private readyCount = 0;
  private resumedCount = 0;
  private readonly sends: PendingSends;

  constructor(options: GatewayClientOptions) {
    this.opts = options;
    this.log = options.logger ?? console;
    this.sends = new PendingSends(options.sendTimeoutMs ?? 15_000);
  }

  get state(): GatewayState {
    return this.currentState;
  }

  info(): GatewayInfo {
    return {
      state: this.currentState,
      sessionId: this.sessionId,
      seq: this.seq,
      readyCount: this.readyCount,
      resumedCount: this.resumedCount,
    };
  }

  on<K extends keyof GatewayEventMap>(type: K, listener: Listener<K>): () => void {
    const set = this.listeners[type] as Set<Listener<K>>;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Connects (no-op while running). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.connect();
  }

  /** Deliberate close (logout, unmount): never reconnects. start() may be called again later. */
  close(): void {
    this.running = false;
    this.generation++;
    this.clearTimers();
    this.sends.lose('closed');
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      detach(socket);
      try {
        socket.close(CloseCode.Normal, 'client closed');
      } catch {
        /* already closed */
      }
    }
    this.sessionId = null;
    this.seq = 0;
    this.established = false;
    this.authSent = false;
    this.everConnected = false;
    this.needsResync = false;
    this.refreshedAfterAuthFailure = false;
    this.attempt = 0;
    this.setState('offline');
  }

  /**
   * Drops the current socket as if the network failed: reconnects with
   * backoff and resumes. For tests and debugging.
   */
  debugDrop(): void {
    if (this.running) this.drop('debug drop');
  }

  /** Sets this session's presence. False when not connected (nothing is queued). */
  updatePresence(update: PresenceUpdate): boolean {
    return this.established && this.send({ op: 'presence_update', d: update });
  }

  typingStart(channelId: string): boolean {
    return this.established && this.send({ op: 'typing_start', d: { channel_id: channelId } });
  }

  /**
   * Sends a message over the socket. Resolves with the message (unchecked JSON) once the
   * server committed it; rejects with an ApiError when it refused it, or GatewaySendLost
   * when the socket went away first. Null when not connected: send over REST instead.
   */
  sendMessage(data: MessageCreateData): Promise<unknown> | null {
    if (!this.established) return null;
    const answer = this.sends.wait(data.nonce);
    if (!this.send({ op: 'message_create', d: data })) {
      this.sends.cancel(data.nonce);
      answer.catch(() => {});
      return null;
    }
    // A stalled server keeps its socket open: without this, it would take until the next
    // heartbeat (up to an interval) to notice, and say so.
    if (this.probeTimer === null) {
      this.probeTimer = setTimeout(() => {
        this.probeTimer = null;
        this.heartbeat(true);
      }, this.opts.probeAfterMs ?? 3_000);
    }
    return answer;
  }

  // ---------------------------------------------------------------- internals

  private emit<K extends keyof GatewayEventMap>(type: K, payload: GatewayEventMap[K]): void {
    for (const listener of [...(this.listeners[type] as Set<Listener<K>>)]) {
      try {
        listener(payload);
      } catch (err) {
        this.log.error('papo gateway: listener failed', err);
      }
    }
  }

  private setState(state: GatewayState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private url(): string {
    return typeof this.opts.url === 'function' ? this.opts.url() : this.opts.url;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private connect(): void {
    this.cancelReconnect();
    if (!this.running) return;
    const gen = ++this.generation;
    this.established = false;
    this.authSent = false;
    this.awaitingAck = false;
    this.setState(this.everConnected ? 'reconnecting' : 'connecting');

    // A new session with a fresh token identifies in the upgrade; a resume, or a token to
    // refresh first, waits for `hello` (docs/gateway.md, *Identifying in the upgrade*).
    const token = this.opts.identifyOnUpgrade === false || this.sessionId !== null ? null : this.opts.auth.token();
    const offered = token !== null && this.now() < token.refreshAt ? token.accessToken : null;
    let socket: WebSocketLike;
    try {
      const create =
        this.opts.createSocket ??
        ((url: string, protocols?: string[]) => new WebSocket(url, protocols) as unknown as WebSocketLike);
      socket = offered === null ? create(this.url()) : create(this.url(), [PROTOCOL, `${TOKEN_PROTOCOL}${offered}`]);
      this.authSent = offered !== null;
    } catch (err) {
      this.log.warn('papo gateway: cannot open the socket', err);
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onmessage = (event) => {
      if (gen === this.generation) this.handleMessage(gen, event.data);
    };
    socket.onclose = (event) => {
      if (gen === this.generation) this.handleClose(event.code, event.reason);
    };
    socket.onerror = () => {
      // A close event follows; nothing to do here.
    };
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (gen === this.generation && !this.established) this.drop('connect timeout');
    }, this.opts.connectTimeoutMs ?? 30_000);
  }

  private handleMessage(gen: number, data: unknown): void {
    // Heard from: no need to ask whether the server is there.
    this.clearTimer('probeTimer');
    const frame: ServerFrame | null = parseFrame(data);
    if (!frame) {
      this.log.warn('papo gateway: ignoring an invalid frame', data);
      return;
    }
    switch (frame.op) {
      case 'hello':
        this.startHeartbeat(frame.d.heartbeat_interval_ms);
        // Identified in the upgrade: `ready` (or a 4001 close) follows by itself.
        if (!this.authSent) void this.authenticate(gen);
        break;
      case 'ready': {
        this.sessionId = frame.d.session_id;
        this.seq = 0;
        this.onEstablished();
        this.readyCount++;
        this.emit('ready', frame.d);
        if (this.needsResync) {
          this.needsResync = false;
          try {
            this.opts.onResync?.();
          } catch (err) {
            this.log.error('papo gateway: onResync failed', err);
          }
        }
        break;
      }
      case 'resumed':
        this.onEstablished();
        this.resumedCount++;
        this.emit('resumed', frame.d);
        break;
      case 'heartbeat_ack':
        this.awaitingAck = false;
        this.clearTimer('ackTimer');
        break;
      case 'event':
        if (frame.s !== null) {
          // Already seen (cannot happen with a correct server): keep it idempotent.
          if (frame.s <= this.seq) return;
          this.seq = frame.s;
        }
        this.emit('event', { t: frame.t, d: frame.d, s: frame.s ?? this.seq });
        break;
      case 'invalid_session':
        this.forgetSession();
        this.established = false;
        void this.authenticate(gen);
        break;
      case 'message_ack':
        this.sends.ack(frame.d);
        break;
      case 'error':
        if (this.sends.refuse(frame.d)) break;
        this.log.warn(`papo gateway: ${frame.d.code}: ${frame.d.message}`);
        this.emit('error', frame.d);
        break;
    }
  }

  private onEstablished(): void {
    this.established = true;
    this.everConnected = true;
    this.refreshedAfterAuthFailure = false;
    this.clearTimer('connectTimer');
    this.setState('connected');
    this.clearTimer('stableTimer');
    this.stableTimer = setTimeout(() => {
      this.stableTimer = null;
      this.attempt = 0;
    }, this.opts.stableAfterMs ?? 10_000);
  }

  /** Sends resume (when there is a session) or identify, with a fresh token. */
  private async authenticate(gen: number): Promise<void> {
    const token = await this.freshToken(gen);
    if (token === null || gen !== this.generation) return;
    this.authSent = true;
    if (this.sessionId !== null) {
      this.send({ op: 'resume', d: { token, session_id: this.sessionId, seq: this.seq } });
    } else {
      this.send({ op: 'identify', d: { token } });
    }
  }

  /** The access token, refreshed first when it is about to expire; null = give up on this socket. */
  private async freshToken(gen: number): Promise<string | null> {
    const token = this.opts.auth.token();
    if (!token) {
      this.authLost();
      return null;
    }
    if (this.now() < token.refreshAt) return token.accessToken;
    try {
      await this.opts.auth.refresh();
    } catch (err) {
      if (gen !== this.generation) return null;
      const after = this.opts.auth.token();
      if (!after) {
        this.authLost();
        return null;
      }
      if (this.now() < after.expiresAt) return after.accessToken;
      this.log.warn('papo gateway: token refresh failed', err);
      this.drop('token refresh failed');
      return null;
    }
    if (gen !== this.generation) return null;
    const renewed = this.opts.auth.token();
    if (!renewed) {
      this.authLost();
      return null;
    }
    return renewed.accessToken;
  }

  private handleClose(code: number, reason: string): void {
    const socket = this.socket;
    this.socket = null;
    if (socket) detach(socket);
    this.generation++;
    this.established = false;
    this.sends.lose(`closed ${code}`);
    this.stopHeartbeat();
    this.clearTimer('stableTimer');
    this.clearTimer('connectTimer');
    if (!this.running) {
      this.setState('offline');
      return;
    }
    this.log.debug(`papo gateway: closed ${code} ${reason}`);
    switch (code) {
      case CloseCode.AuthFailed:
        void this.recoverAuth();
        break;
      case CloseCode.InvalidFrame:
        this.log.error(`papo gateway: the server refused a frame (4002 ${reason}); starting a new session`);
        this.forgetSession();
        this.scheduleReconnect();
        break;
      case CloseCode.SessionReplaced:
        // Someone else holds our session now: do not fight over it.
        this.forgetSession();
        this.scheduleReconnect();
        break;
      case CloseCode.RateLimited:
      case CloseCode.TooManyConnections:
        this.scheduleReconnect(this.opts.rateLimitPauseMs ?? 10_000);
        break;
      default:
        // 1000–1015, 4003, 4009, 4010, network errors (1006), unknown codes: resume.
        this.scheduleReconnect();
    }
  }

  /** After 4001: refresh the token once, then identify anew; log out if that fails. */
  private async recoverAuth(): Promise<void> {
    this.forgetSession();
    if (this.refreshedAfterAuthFailure) {
      // A freshly refreshed token was refused too: the session is gone.
      this.authLost();
      return;
    }
    this.setState(this.everConnected ? 'reconnecting' : 'connecting');
    const gen = this.generation;
    try {
      await this.opts.auth.refresh();
    } catch (err) {
      if (!this.running || gen !== this.generation) return;
      if (!this.opts.auth.token()) {
        this.authLost();
      } else {
        // Transient (network, 5xx): try again later.
        this.log.warn('papo gateway: token refresh failed', err);
        this.scheduleReconnect();
      }
      return;
    }
    if (!this.running || gen !== this.generation) return;
    if (!this.opts.auth.token()) {
      this.authLost();
      return;
    }
    this.refreshedAfterAuthFailure = true;
    this.connect();
  }

  private authLost(): void {
    this.close();
    try {
      this.opts.auth.lost();
    } catch (err) {
      this.log.error('papo gateway: auth lost handler failed', err);
    }
  }

  /** The next connection identifies (new session) instead of resuming. */
  private forgetSession(): void {
    if (this.sessionId !== null || this.everConnected) this.needsResync = true;
    this.sessionId = null;
    this.seq = 0;
  }

  /** Gives up on the current socket (still wanting the session) and reconnects with backoff. */
  private drop(why: string): void {
    this.log.warn(`papo gateway: dropping the connection (${why})`);
    const socket = this.socket;
    this.socket = null;
    this.generation++;
    this.established = false;
    this.sends.lose(why);
    this.stopHeartbeat();
    this.clearTimer('stableTimer');
    this.clearTimer('connectTimer');
    if (socket) {
      detach(socket);
      try {
        // Not 1000: the server should keep the session for a resume.
        socket.close(CloseCode.ClientDrop, why.slice(0, 100));
      } catch {
        /* already closed */
      }
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(minDelayMs = 0): void {
    if (!this.running) return;
    this.cancelReconnect();
    this.setState(this.everConnected ? 'reconnecting' : 'connecting');
    const delay = Math.max(minDelayMs, backoffDelay(this.attempt, this.opts.backoff, this.opts.random));
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    this.awaitingAck = false;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), intervalMs);
  }

  /** A heartbeat: the interval's, or a `probe` after a send that heard nothing back. */
  private heartbeat(probe = false): void {
    if (this.awaitingAck) {
      // The interval's own check; a probe leaves the waiting to the ack timer.
      if (!probe) this.drop('no heartbeat_ack');
      return;
    }
    // identify / resume must be the first frame.
    if (!this.authSent) return;
    if (this.send({ op: 'heartbeat', d: this.seq > 0 ? { seq: this.seq } : null })) {
      this.awaitingAck = true;
      this.ackTimer = setTimeout(() => {
        this.ackTimer = null;
        this.drop('no heartbeat_ack');
      }, this.opts.ackTimeoutMs ?? 10_000);
    }
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) {
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = null;
    }
    this.clearTimer('ackTimer');
    this.clearTimer('probeTimer');
    this.awaitingAck = false;
  }

  private send(frame: ClientFrame): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WS_OPEN) return false;
    try {
      socket.send(encodeFrame(frame));
      return true;
    } catch (err) {
      this.log.warn('papo gateway: send failed', err);
      return false;
    }
  }

  private cancelReconnect(): void {
    this.clearTimer('reconnectTimer');
  }

  private clearTimer(name: 'reconnectTimer' | 'stableTimer' | 'connectTimer' | 'ackTimer' | 'probeTimer'): void {
    const timer = this[name];
    if (timer !== null) {
      clearTimeout(timer);
      this[name] = null;
    }
  }

  private clearTimers(): void {
    this.stopHeartbeat();
    this.clearTimer('reconnectTimer');
    this.clearTimer('stableTimer');
    this.clearTimer('connectTimer');
  }
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = null;
}

/** `ws(s)://<host>/api/v1/gateway` for the page's location. */
export function gatewayUrl(location: { protocol: string; host: string }, path = '/api/v1/gateway'): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
}
