import { describe, expect, it } from 'vitest';
import type { Presence } from './protocol';
import {
  DEFAULT_PRESENCE,
  activeCustomStatus,
  charCount,
  choiceOf,
  customStatusFromDraft,
  expiresAtFor,
  loadPresenceChoice,
  parsePresenceChoice,
  presenceMap,
  presenceStorageKey,
  takeStoredChoice,
  toRfc3339,
  validateCustomStatus,
} from './presence';
import { MemoryStorage } from '../testing/memoryStorage';

const NOW = new Date('2025-03-10T14:20:30.123Z');

describe('custom status', () => {
  it('computes expires_at as RFC 3339', () => {
    expect(toRfc3339(NOW.getTime())).toBe('2025-03-10T14:20:30Z');
    expect(expiresAtFor('never', NOW)).toBeNull();
    expect(expiresAtFor('30m', NOW)).toBe('2025-03-10T14:50:30Z');
    expect(expiresAtFor('1h', NOW)).toBe('2025-03-10T15:20:30Z');
    expect(expiresAtFor('4h', NOW)).toBe('2025-03-10T18:20:30Z');
    const today = new Date(Date.parse(expiresAtFor('today', NOW)!));
    // Local midnight after NOW.
    expect(today.getTime()).toBeGreaterThan(NOW.getTime());
    expect(today.getTime() - NOW.getTime()).toBeLessThanOrEqual(24 * 3600_000);
    expect([today.getHours(), today.getMinutes(), today.getSeconds()]).toEqual([0, 0, 0]);
  });

  it('counts characters, not UTF-16 units', () => {
    expect(charCount('🎧')).toBe(1);
    expect('🎧'.length).toBe(2);
    expect(validateCustomStatus({ text: '🎧'.repeat(128), emoji: '', clearAfter: 'never' })).toEqual({});
    expect(validateCustomStatus({ text: 'x'.repeat(129), emoji: '', clearAfter: 'never' })).toEqual({ text: 'too_long' });
    expect(validateCustomStatus({ text: 'ok', emoji: 'x'.repeat(33), clearAfter: 'never' })).toEqual({ emoji: 'too_long' });
    expect(validateCustomStatus({ text: ' ', emoji: '🎧', clearAfter: 'never' })).toEqual({ text: 'required' });
    expect(validateCustomStatus({ text: '', emoji: '', clearAfter: 'never' })).toEqual({});
  });

  it('builds the custom status of a draft', () => {
    expect(customStatusFromDraft({ text: '  Focus time ', emoji: '', clearAfter: 'never' }, NOW)).toEqual({
      text: 'Focus time',
    });
    expect(customStatusFromDraft({ text: 'Lunch', emoji: '🍝', clearAfter: '1h' }, NOW)).toEqual({
      text: 'Lunch',
      emoji: '🍝',
      expires_at: '2025-03-10T15:20:30Z',
    });
    expect(customStatusFromDraft({ text: '   ', emoji: '', clearAfter: '1h' }, NOW)).toBeNull();
  });

  it('hides an expired custom status', () => {
    const custom = { text: 'Lunch', expires_at: '2025-03-10T15:00:00Z' };
    expect(activeCustomStatus(custom, Date.parse('2025-03-10T14:59:59Z'))).toBe(custom);
    expect(activeCustomStatus(custom, Date.parse('2025-03-10T15:00:00Z'))).toBeNull();
    expect(activeCustomStatus({ text: 'x' }, Date.now())).toEqual({ text: 'x' });
    expect(activeCustomStatus(null, Date.now())).toBeNull();
  });
});

describe('the saved choice', () => {
  const settings = (status: string, custom_status: unknown) =>
    ({ status, custom_status }) as unknown as Parameters<typeof choiceOf>[0];

  it('is read from the settings, an expired custom status left out', () => {
    expect(choiceOf(settings('dnd', { text: 'Aula', expires_at: '2025-03-10T15:00:00Z' }), NOW.getTime())).toEqual({
      status: 'dnd',
      custom_status: { text: 'Aula', expires_at: '2025-03-10T15:00:00Z' },
    });
    expect(choiceOf(settings('idle', { text: 'Aula', expires_at: '2025-03-10T14:00:00Z' }), NOW.getTime())).toEqual({
      status: 'idle',
      custom_status: null,
    });
    expect(choiceOf(null, NOW.getTime())).toEqual(DEFAULT_PRESENCE);
    expect(choiceOf(settings('away', null), NOW.getTime()).status, 'an unknown status reads online').toBe('online');
  });
});

describe('the choice an older version kept on the device', () => {
  it('is read once, per user, then gone', () => {
    const storage = new MemoryStorage();
    const choice = { status: 'dnd' as const, custom_status: { text: 'Focus time' } };
    storage.setItem(presenceStorageKey('u1'), JSON.stringify(choice));
    expect(loadPresenceChoice(storage, 'u2', NOW.getTime())).toBeNull();
    expect(takeStoredChoice(storage, 'u1', NOW.getTime())).toEqual(choice);
    expect(storage.data.has(presenceStorageKey('u1'))).toBe(false);
    expect(takeStoredChoice(storage, 'u1', NOW.getTime())).toBeNull();
    expect(takeStoredChoice(null, 'u1', NOW.getTime())).toBeNull();
  });

  it('drops an expired custom status but keeps the status', () => {
    const raw = JSON.stringify({
      status: 'idle',
      custom_status: { text: 'Lunch', emoji: '🍝', expires_at: '2025-03-10T14:00:00Z' },
    });
    expect(parsePresenceChoice(raw, NOW.getTime())).toEqual({ status: 'idle', custom_status: null });
  });

  it('ignores malformed values', () => {
    for (const raw of [null, '', 'nope', '{}', '{"status":"away"}', '[]']) {
      expect(parsePresenceChoice(raw, NOW.getTime()), String(raw)).toBeNull();
    }
    expect(
      parsePresenceChoice(JSON.stringify({ status: 'online', custom_status: { text: 'x'.repeat(200) } }), 0),
    ).toEqual({ status: 'online', custom_status: null });
  });
});

describe('presenceMap', () => {
  it('keys a full presence list by user, replacing what was known', () => {
    const map = presenceMap([
      { user_id: '1', status: 'dnd', custom_status: { text: 'Aula' } },
      // As an older payload may come: without the custom status.
      { user_id: '2', status: 'idle' } as Presence,
    ]);
    expect(map).toEqual({
      '1': { user_id: '1', status: 'dnd', custom_status: { text: 'Aula' } },
      '2': { user_id: '2', status: 'idle', custom_status: null },
    });
    expect(presenceMap([])).toEqual({});
  });
});
