import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay } from './backoff';

describe('backoff', () => {
  it('doubles from 500 ms and is capped at 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50, 5000].map((n) => backoffCeiling(n))).toEqual([
      500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000,
    ]);
    expect(backoffCeiling(-3)).toBe(500);
    expect(backoffCeiling(2, { baseMs: 100, capMs: 300 })).toBe(300);
  });

  it('uses full jitter: anywhere in [0, ceiling)', () => {
    expect(backoffDelay(3, {}, () => 0)).toBe(0);
    expect(backoffDelay(3, {}, () => 0.5)).toBe(2000);
    expect(backoffDelay(3, {}, () => 0.999999)).toBe(3999);
    for (let attempt = 0; attempt < 12; attempt++) {
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(backoffCeiling(attempt));
        expect(Number.isInteger(d)).toBe(true);
      }
    }
  });

  it('spreads delays over the whole range', () => {
    const samples = Array.from({ length: 2000 }, () => backoffDelay(10));
    expect(Math.min(...samples)).toBeLessThan(3000);
    expect(Math.max(...samples)).toBeGreaterThan(27000);
  });
});
