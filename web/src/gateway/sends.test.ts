import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import { GatewaySendLost, PendingSends, isGatewaySendLost, statusForCode } from './sends';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('PendingSends', () => {
  it('resolves a send with its ack and rejects another with its error, by nonce', async () => {
    const sends = new PendingSends(1_000);
    const a = sends.wait('a');
    const b = sends.wait('b');
    expect(sends.size).toBe(2);
    expect(sends.refuse({ code: 'not_found', message: 'x' })).toBe(false); // no nonce
    expect(sends.refuse({ code: 'not_found', message: 'x', nonce: 'zzz' })).toBe(false); // not ours
    expect(sends.refuse({ code: 'rate_limited', message: 'slow down', nonce: 'b', retry_after: 3 })).toBe(true);
    sends.ack({ nonce: 'a', created: true, message: { id: '1' } });
    await expect(a).resolves.toEqual({ id: '1' });
    const err = await b.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 429, code: 'rate_limited', message: 'slow down', retryAfter: 3 });
    expect(sends.size).toBe(0);
  });

  it('loses every waiting send when the socket goes, and times out a silent one', async () => {
    const sends = new PendingSends(1_000);
    const a = sends.wait('a');
    sends.lose('closed 1006');
    await expect(a).rejects.toBeInstanceOf(GatewaySendLost);
    const b = sends.wait('b');
    const settled = b.catch((e: unknown) => e);
    vi.advanceTimersByTime(999);
    expect(sends.size).toBe(1);
    vi.advanceTimersByTime(1);
    expect(isGatewaySendLost(await settled)).toBe(true);
    expect(sends.size).toBe(0);
  });

  it('refuses a second wait on a nonce in flight, and forgets cancelled ones', async () => {
    const sends = new PendingSends(1_000);
    const first = sends.wait('a');
    await expect(sends.wait('a')).rejects.toBeInstanceOf(GatewaySendLost);
    sends.cancel('a');
    expect(sends.size).toBe(0);
    sends.ack({ nonce: 'a', created: true, message: {} }); // too late: ignored
    const again = sends.wait('a');
    sends.ack({ nonce: 'a', created: false, message: { id: '2' } });
    await expect(again).resolves.toEqual({ id: '2' });
    void first;
  });

  it('maps codes to the statuses REST uses', () => {
    expect(statusForCode('validation_failed')).toBe(422);
    expect(statusForCode('slowmode')).toBe(429);
    expect(statusForCode('forbidden')).toBe(403);
    expect(statusForCode('not_found')).toBe(404);
    expect(statusForCode('something_new')).toBe(400);
  });
});
