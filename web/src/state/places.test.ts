import { describe, expect, it } from 'vitest';
import { forgetPlaces, leavePlace, placeOf } from './places';

describe('places left in channels', () => {
  it('keeps a place left scrolled up, forgets one left at the bottom, and all at logout', () => {
    leavePlace('c1', { key: '42', top: -12 });
    leavePlace('c2', { key: '7', top: 0 });
    expect(placeOf('c1')).toEqual({ key: '42', top: -12 });
    leavePlace('c1', null);
    expect(placeOf('c1')).toBeNull();
    forgetPlaces();
    expect(placeOf('c2')).toBeNull();
  });
});
