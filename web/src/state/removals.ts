// Why the open server or channel went away. The app moves on by itself when one disappears
// (deleted, or we were removed from it or lost sight of it); unless this tab did it, the
// place it lands on says so. Ids are snowflakes: servers and channels never share one.

/** Servers and channels this tab is leaving or deleting itself. */
const own = new Set<string>();

/** Before leaving or deleting `id` ourselves: its disappearance needs no explanation. */
export function markOwnRemoval(id: string): void {
  own.add(id);
}

/** We are (back) in `id`: a later disappearance is someone else's doing again. */
export function forgetOwnRemoval(id: string): void {
  own.delete(id);
}

/** What the page the app moved to tells: `name` is gone. */
export type GoneNotice = { kind: 'serverGone' | 'channelGone'; name: string };

/** The place that was open last: a server and maybe one of its channels. */
export interface OpenPlace {
  serverId: string;
  serverName: string;
  channelId: string | null;
  channelName: string | null;
}

/**
 * The notice for a move away from `open` (to `to`, as the route resolved it), or null: the
 * server is gone (the move is to `/app`) or the channel that was open is, and not by us.
 */
export function goneNotice(open: OpenPlace | null, serverId: string, channelId: string | null, to: string): GoneNotice | null {
  if (!open || open.serverId !== serverId) return null;
  if (to === '/app') return own.has(serverId) ? null : { kind: 'serverGone', name: open.serverName };
  if (channelId !== null && open.channelId === channelId && open.channelName !== null && !own.has(channelId)) {
    return { kind: 'channelGone', name: open.channelName };
  }
  return null;
}

/** The notice carried by a navigation's state, if it is one. */
export function noticeOf(state: unknown): GoneNotice | null {
  if (typeof state !== 'object' || state === null) return null;
  const notice = (state as { notice?: unknown }).notice;
  if (typeof notice !== 'object' || notice === null) return null;
  const { kind, name } = notice as { kind?: unknown; name?: unknown };
  return (kind === 'serverGone' || kind === 'channelGone') && typeof name === 'string' ? { kind, name } : null;
}
