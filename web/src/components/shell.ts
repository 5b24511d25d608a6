import { createContext, useContext } from 'react';
import type { MemberPanelState } from './members/useMembers';

/** What the app frame offers to the views inside it. */
export interface Shell {
  /** Phone layout: the rail + channel list drawer. */
  menuOpen: boolean;
  toggleMenu(): void;
  closeMenu(): void;
  /** Opens the "Create a server" dialog. */
  openCreateServer(): void;
  /** The member list on the right of a server (a drawer on narrow screens). */
  memberList: MemberPanelState;
}

export const ShellContext = createContext<Shell | null>(null);

export function useShell(): Shell {
  const value = useContext(ShellContext);
  if (!value) throw new Error('useShell must be used inside <AppShell>');
  return value;
}
