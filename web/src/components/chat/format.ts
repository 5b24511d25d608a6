// Dates and excerpts of the chat view (pure: the components add the words).

export type DayKind = 'today' | 'yesterday' | 'other';

/** Whether `date` is today, yesterday or earlier, in the local calendar of `now`. */
export function dayKind(date: Date, now: Date): DayKind {
  const start = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((start(now) - start(date)) / 86_400_000);
  if (days === 0) return 'today';
  if (days === 1) return 'yesterday';
  return 'other';
}

export interface MessageTime {
  kind: DayKind;
  /** "14:03" (the locale's short time) */
  time: string;
  /** the locale's short date, for older messages */
  date: string;
  /** date and time in full, for the tooltip */
  full: string;
}

/** The parts of a message's timestamp in a locale; null when the timestamp is unreadable. */
export function messageTime(iso: string, locale: string, now: Date): MessageTime | null {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  return {
    kind: dayKind(date, now),
    time: new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(date),
    date: new Intl.DateTimeFormat(locale, { dateStyle: 'short' }).format(date),
    full: new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' }).format(date),
  };
}

/** One line of a message for a reply preview: whitespace collapsed, cut at `max` characters. */
export function excerpt(text: string, max = 120): string {
  const line = text.replace(/\s+/gu, ' ').trim();
  const chars = Array.from(line);
  return chars.length <= max ? line : `${chars.slice(0, max - 1).join('')}…`;
}

/** Whole seconds left until `untilMs` (0 when past). */
export function secondsLeft(untilMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((untilMs - nowMs) / 1000));
}
