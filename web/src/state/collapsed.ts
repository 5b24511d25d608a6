// Which channel groups (categories, or `text` / `voice` for the channels
// outside a category) are collapsed, per server, remembered in localStorage.

import type { StorageLike } from '../api/client';

export const collapsedKey = (serverId: string) => `papo.collapsed.${serverId}`;

export function loadCollapsed(storage: StorageLike | null, serverId: string): Set<string> {
  try {
    const raw = storage?.getItem(collapsedKey(serverId));
    if (!raw) return new Set();
    const value: unknown = JSON.parse(raw);
    return new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  } catch {
    return new Set();
  }
}

export function saveCollapsed(storage: StorageLike | null, serverId: string, collapsed: ReadonlySet<string>): void {
  try {
    if (collapsed.size === 0) storage?.removeItem(collapsedKey(serverId));
    else storage?.setItem(collapsedKey(serverId), JSON.stringify([...collapsed].sort()));
  } catch {
    /* storage full or unavailable: remembered for this page only */
  }
}

/** The set with `key` added or removed. */
export function toggled(collapsed: ReadonlySet<string>, key: string): Set<string> {
  const next = new Set(collapsed);
  if (next.has(key)) next.delete(key);
  else next.add(key);
  return next;
}
