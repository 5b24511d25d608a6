import { useEffect, useReducer, useState } from 'react';

/** The current time, refreshed every `intervalMs` while `active` (else frozen). */
export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}

/** Whether the page is shown (not a background tab, not minimised). */
export function useDocumentVisible(): boolean {
  const [visible, setVisible] = useState(() => typeof document === 'undefined' || document.visibilityState === 'visible');
  useEffect(() => {
    const update = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return visible;
}

/** The earliest of `times` (epoch ms, or null: none) after `now`, or null if none is. */
export function nextDeadline(times: Iterable<number | null>, now: number): number | null {
  let next: number | null = null;
  for (const t of times) {
    if (t !== null && Number.isFinite(t) && t > now && (next === null || t < next)) next = t;
  }
  return next;
}

/**
 * Draws the component again when the earliest of `times` still ahead has passed (a timeout
 * running out, a custom status expiring), so what depends on `Date.now()` changes on time
 * without a timer every second.
 */
export function useRedrawAt(times: Iterable<number | null>): void {
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const next = nextDeadline(times, Date.now());
  useEffect(() => {
    if (next === null) return;
    // setTimeout's delay is a signed 32-bit count of ms; a later deadline waits in steps.
    const timer = setTimeout(redraw, Math.min(next - Date.now() + 20, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [next]);
}
