import { describe, expect, it } from 'vitest';
import { nextDeadline } from './useNow';

describe('nextDeadline', () => {
  it('is the earliest time still ahead', () => {
    expect(nextDeadline([5_000, null, 3_000, 1_000, Number.NaN], 2_000)).toBe(3_000);
    expect(nextDeadline([1_000, 2_000], 2_000)).toBeNull();
    expect(nextDeadline([], 0)).toBeNull();
  });
});
