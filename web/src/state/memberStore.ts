// Holds the member lists (state/members.ts) for the components that show
// them: loads a server's list the first time it is watched, applies gateway
// events, reloads the watched lists after a new gateway session. No React
// (components subscribe with useSyncExternalStore), no singletons: see
// components/members/useMembers.ts for the app's instance.

import type { Member } from '../api/types';
import {
  IDLE_MEMBER_LIST,
  memberActionForEvent,
  membersReducer,
  type MemberAction,
  type MemberListState,
  type MembersState,
} from './members';

/** Loads every member of a server, calling onPage for each page; resolves with whether the list is complete. */
export type MemberLoader = (
  serverId: string,
  onPage: (members: Member[]) => void,
  signal: AbortSignal,
) => Promise<{ complete: boolean }>;

export class MemberStore {
  private state: MembersState = {};
  private readonly listeners = new Set<() => void>();
  private readonly loads = new Map<string, AbortController>();
  /** server id → how many components watch it */
  private readonly watched = new Map<string, number>();

  constructor(private readonly loader: MemberLoader) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** A server's list (the same object until it changes). */
  get(serverId: string): MemberListState {
    return this.state[serverId] ?? IDLE_MEMBER_LIST;
  }

  member(serverId: string, userId: string): Member | undefined {
    return this.state[serverId]?.members[userId];
  }

  /** Marks a server's list as shown (loading it if needed); returns the unwatch function. */
  watch(serverId: string): () => void {
    this.watched.set(serverId, (this.watched.get(serverId) ?? 0) + 1);
    this.ensure(serverId);
    return () => {
      const count = (this.watched.get(serverId) ?? 1) - 1;
      if (count > 0) this.watched.set(serverId, count);
      else this.watched.delete(serverId);
    };
  }

  /** Loads the list unless it is loaded, loading, or failed (use reload() to retry). */
  ensure(serverId: string): void {
    if (this.get(serverId).status === 'idle') this.load(serverId);
  }

  reload(serverId: string): void {
    this.load(serverId);
  }

  dispatch(action: MemberAction): void {
    const next = membersReducer(this.state, action);
    if (action.type === 'server.gone') this.cancel(action.server_id);
    if (next === this.state) return;
    this.state = next;
    for (const listener of [...this.listeners]) listener();
  }

  /** A gateway event (ignored unless it is about members). */
  handleEvent(t: string, d: unknown): void {
    const action = memberActionForEvent(t, d);
    if (action) this.dispatch(action);
  }

  /**
   * A new gateway session: events may have been missed. Watched lists are
   * loaded again, the others forgotten.
   */
  invalidate(): void {
    for (const serverId of [...this.loads.keys()]) this.cancel(serverId);
    this.replace({});
    for (const serverId of this.watched.keys()) this.load(serverId);
  }

  /** Logged out: forget everything. */
  clear(): void {
    for (const serverId of [...this.loads.keys()]) this.cancel(serverId);
    this.replace({});
  }

  private replace(state: MembersState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of [...this.listeners]) listener();
  }

  private cancel(serverId: string): void {
    this.loads.get(serverId)?.abort();
    this.loads.delete(serverId);
  }

  private load(serverId: string): void {
    this.cancel(serverId);
    const controller = new AbortController();
    this.loads.set(serverId, controller);
    this.dispatch({ type: 'members.loading', server_id: serverId });
    const current = () => this.loads.get(serverId) === controller && !controller.signal.aborted;
    this.loader(
      serverId,
      (members) => {
        if (current()) this.dispatch({ type: 'members.page', server_id: serverId, members });
      },
      controller.signal,
    ).then(
      ({ complete }) => {
        if (!current()) return;
        this.loads.delete(serverId);
        this.dispatch({ type: 'members.loaded', server_id: serverId, complete });
      },
      (error: unknown) => {
        if (!current()) return;
        this.loads.delete(serverId);
        this.dispatch({ type: 'members.failed', server_id: serverId, error });
      },
    );
  }
}
