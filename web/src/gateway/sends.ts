// Messages sent over the gateway (`message_create`, docs/gateway.md): each waits
// for the `message_ack` or `error` frame carrying its nonce. A send whose socket
// goes away, or that gets no answer in time, fails with GatewaySendLost: the
// caller then sends it over REST with the same nonce, which answers the first
// message if the lost one was committed after all. No React, no DOM.

import { ApiError } from '../api/errors';
import type { GatewayErrorData, MessageAckData } from './protocol';

/** The socket went away (or stayed silent) before the server answered. */
export class GatewaySendLost extends Error {
  constructor(why: string) {
    super(`gateway send lost: ${why}`);
    this.name = 'GatewaySendLost';
  }
}

export function isGatewaySendLost(value: unknown): value is GatewaySendLost {
  return value instanceof GatewaySendLost;
}

/** The HTTP status REST answers with for a code (the gateway sends only the code). */
export function statusForCode(code: string): number {
  switch (code) {
    case 'validation_failed':
      return 422;
    case 'rate_limited':
    case 'slowmode':
      return 429;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'service_unavailable':
      return 503;
    case 'internal_error':
      return 500;
    default:
      return 400;
  }
}

interface Waiting {
  resolve(message: unknown): void;
  reject(err: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/** The sends of one gateway client that are waiting for their answer, by nonce. */
export class PendingSends {
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly timeoutMs: number) {}

  get size(): number {
    return this.waiting.size;
  }

  /** Waits for the answer to `nonce` (a second wait on the same nonce replaces nothing: it fails). */
  wait(nonce: string): Promise<unknown> {
    if (this.waiting.has(nonce)) return Promise.reject(new GatewaySendLost('nonce already in flight'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(nonce);
        reject(new GatewaySendLost('no answer'));
      }, this.timeoutMs);
      this.waiting.set(nonce, { resolve, reject, timer });
    });
  }

  /** Stops waiting for `nonce` (the frame could not be sent). */
  cancel(nonce: string): void {
    const w = this.waiting.get(nonce);
    if (!w) return;
    clearTimeout(w.timer);
    this.waiting.delete(nonce);
  }

  /** A `message_ack`: resolves its send with the message. */
  ack(d: MessageAckData): void {
    this.take(d.nonce)?.resolve(d.message);
  }

  /** An `error` frame: rejects the send it names with an ApiError; false when it names none. */
  refuse(d: GatewayErrorData): boolean {
    if (d.nonce === undefined) return false;
    const w = this.take(d.nonce);
    if (!w) return false;
    w.reject(
      new ApiError({
        status: statusForCode(d.code),
        code: d.code,
        message: d.message,
        fields: d.fields,
        retryAfter: d.retry_after ?? null,
      }),
    );
    return true;
  }

  /** The socket is gone: every waiting send fails with GatewaySendLost. */
  lose(why: string): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of all) {
      clearTimeout(w.timer);
      w.reject(new GatewaySendLost(why));
    }
  }

  private take(nonce: string): Waiting | undefined {
    const w = this.waiting.get(nonce);
    if (w) {
      clearTimeout(w.timer);
      this.waiting.delete(nonce);
    }
    return w;
  }
}
