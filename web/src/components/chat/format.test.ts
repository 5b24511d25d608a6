import { describe, expect, it } from 'vitest';
import { dayKind, excerpt, messageTime, secondsLeft } from './format';

describe('chat formatting', () => {
  const now = new Date(2026, 4, 10, 9, 30);

  it('tells today, yesterday and older days apart in the local calendar', () => {
    expect(dayKind(new Date(2026, 4, 10, 0, 1), now)).toBe('today');
    expect(dayKind(new Date(2026, 4, 9, 23, 59), now)).toBe('yesterday');
    expect(dayKind(new Date(2026, 4, 8, 12, 0), now)).toBe('other');
  });

  it('formats times per locale and refuses bad timestamps', () => {
    const t = messageTime(new Date(2026, 4, 10, 14, 5).toISOString(), 'pt-BR', now);
    expect(t?.kind).toBe('today');
    expect(t?.time).toBe('14:05');
    expect(messageTime('nope', 'en', now)).toBeNull();
  });

  it('makes one-line excerpts', () => {
    expect(excerpt('a\n\n b   c')).toBe('a b c');
    expect(excerpt('x'.repeat(10), 5)).toBe('xxxx…');
    expect(excerpt('😀'.repeat(6), 5)).toBe('😀😀😀😀…');
  });

  it('counts whole seconds left', () => {
    expect(secondsLeft(10_500, 10_000)).toBe(1);
    expect(secondsLeft(10_000, 12_000)).toBe(0);
    expect(secondsLeft(15_000, 10_000)).toBe(5);
  });
});
