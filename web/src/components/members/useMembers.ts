import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { membersApi } from '../../api';
import { gateway } from '../../gateway';
import { MemberStore } from '../../state/memberStore';
import type { MemberListState } from '../../state/members';

/** The app's member lists: loaded on demand, kept live by the gateway. */
export const memberStore = new MemberStore((serverId, onPage, signal) =>
  membersApi.listAll(serverId, { onPage, signal }).then(({ complete }) => ({ complete })),
);

let connected = false;

/** Wires the store to the gateway (once, on first use). */
function connectMemberStore(): void {
  if (connected) return;
  connected = true;
  gateway.on('event', ({ t, d }) => memberStore.handleEvent(t, d));
  // A new session may have missed events: reload what is on screen.
  gateway.on('ready', () => memberStore.invalidate());
  // Logged out (the gateway only goes offline when closed on purpose).
  gateway.on('state', (state) => {
    if (state === 'offline') memberStore.clear();
  });
}

/** A server's member list, loaded (and followed) while the component is mounted. */
export function useMemberList(serverId: string): MemberListState {
  useEffect(() => {
    connectMemberStore();
    return memberStore.watch(serverId);
  }, [serverId]);
  const get = useCallback(() => memberStore.get(serverId), [serverId]);
  return useSyncExternalStore(memberStore.subscribe, get, get);
}

/**
 * A member's nickname from the server's member list, if it is loaded (null otherwise): only
 * a change of this nickname draws the caller again, not every change of the list.
 */
export function useListedNickname(serverId: string, userId: string): string | null {
  const get = useCallback(() => memberStore.get(serverId).members[userId]?.nickname ?? null, [serverId, userId]);
  return useSyncExternalStore(memberStore.subscribe, get, get);
}

// ---------- the panel's visibility ----------

/** Below this width the member list is a drawer over the main area, closed by default. */
export const MEMBER_DRAWER_QUERY = '(max-width: 1099px)';
const PREF_KEY = 'papo.memberList';

function readPref(): boolean {
  try {
    return localStorage.getItem(PREF_KEY) !== '0';
  } catch {
    return true;
  }
}

function writePref(open: boolean): void {
  try {
    localStorage.setItem(PREF_KEY, open ? '1' : '0');
  } catch {
    /* storage unavailable: the choice lasts for this page */
  }
}

function useMediaQuery(query: string): boolean {
  const subscribe = useCallback(
    (onChange: () => void) => {
      if (typeof window === 'undefined' || !window.matchMedia) return () => {};
      const list = window.matchMedia(query);
      list.addEventListener('change', onChange);
      return () => list.removeEventListener('change', onChange);
    },
    [query],
  );
  const get = () => (typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(query).matches : false);
  return useSyncExternalStore(subscribe, get, () => false);
}

export interface MemberPanelState {
  /** Shown now (a column on wide screens, a drawer on narrow ones). */
  open: boolean;
  /** The narrow layout: the list is a drawer. */
  drawer: boolean;
  toggle(): void;
  close(): void;
}

/**
 * Wide screens: a column, open unless the user closed it (remembered).
 * Narrow screens: a drawer, closed by default and on navigation.
 */
export function useMemberPanelState(pathname: string): MemberPanelState {
  const drawer = useMediaQuery(MEMBER_DRAWER_QUERY);
  const [columnOpen, setColumnOpen] = useState(readPref);
  const [drawerOpen, setDrawerOpen] = useState(false);

  useEffect(() => {
    setDrawerOpen(false);
  }, [pathname, drawer]);

  const toggle = useCallback(() => {
    if (drawer) {
      setDrawerOpen((open) => !open);
    } else {
      setColumnOpen((open) => {
        writePref(!open);
        return !open;
      });
    }
  }, [drawer]);

  const close = useCallback(() => {
    if (drawer) {
      setDrawerOpen(false);
    } else {
      writePref(false);
      setColumnOpen(false);
    }
  }, [drawer]);

  const open = drawer ? drawerOpen : columnOpen;
  return useMemo(() => ({ open, drawer, toggle, close }), [open, drawer, toggle, close]);
}
