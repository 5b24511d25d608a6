import { useEffect, useMemo, useState } from 'react';
import { Outlet, useLocation, useMatch } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { ChannelSidebar } from './ChannelSidebar';
import { ConversationSidebar } from './ConversationSidebar';
import { CreateServerDialog } from './CreateServerDialog';
import { GatewayBanner } from './GatewayBanner';
import { RouteNotice } from './RouteNotice';
import { MemberPanel } from './members/MemberPanel';
import { useMemberPanelState } from './members/useMembers';
import { ServerRail } from './ServerRail';
import { ShellContext, type Shell } from './shell';
import { UserPanel } from './UserPanel';
import { rememberAppPath } from '../state/returnPath';

/**
 * The logged-in frame: rail, sidebar (direct messages at home, a server's
 * channels in a server), the routed main area and the user panel. On phones the
 * rail + sidebar are a drawer opened from the main header's menu button.
 */
export function AppShell() {
  const { t } = useTranslation();
  const [menuOpen, setMenuOpen] = useState(false);
  const [creatingServer, setCreatingServer] = useState(false);
  const location = useLocation();
  useEffect(() => rememberAppPath(location.pathname), [location.pathname]);
  const serverMatch = useMatch('/app/servers/:serverId/*');
  const serverId = serverMatch?.params.serverId ?? null;
  const memberList = useMemberPanelState(location.pathname);
  const membersShown = serverId !== null && memberList.open;

  // Picking a channel or a server closes the drawer.
  useEffect(() => {
    setMenuOpen(false);
  }, [location.pathname]);

  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !event.defaultPrevented) setMenuOpen(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  // A drawer open on a narrow screen (the channel list, or the member list) holds the focus:
  // it moves into the drawer, the main area behind it is inert, and closing gives it back.
  const memberDrawerOpen = membersShown && memberList.drawer;
  const drawerOpen = menuOpen || memberDrawerOpen;
  useEffect(() => {
    if (!menuOpen) return;
    document.querySelector<HTMLElement>('.sidebar a[href], .sidebar button')?.focus();
    return () => {
      const active = document.activeElement;
      if (active instanceof HTMLElement && active.closest('.sidebar, .server-rail')) {
        document.querySelector<HTMLElement>('[data-testid="menu-toggle"]')?.focus();
      }
    };
  }, [menuOpen]);

  const shell = useMemo<Shell>(
    () => ({
      menuOpen,
      toggleMenu: () => setMenuOpen((open) => !open),
      closeMenu: () => setMenuOpen(false),
      openCreateServer: () => {
        setMenuOpen(false);
        setCreatingServer(true);
      },
      memberList,
    }),
    [menuOpen, memberList],
  );

  return (
    <ShellContext.Provider value={shell}>
      <div
        className={[
          'app-shell',
          menuOpen ? 'menu-open' : '',
          membersShown ? (memberList.drawer ? 'member-drawer-open' : 'with-member-list') : '',
        ]
          .filter(Boolean)
          .join(' ')}
        data-testid="app-shell"
      >
        <a className="skip-link" href="#main" inert={memberDrawerOpen}>
          {t('app.skipToContent')}
        </a>
        <GatewayBanner />
        <ServerRail activeServerId={serverId} />
        {serverId ? (
          // Keys are unique among the shell's children: with the member panel's the same,
          // React lost one of the two and left a server's sidebar behind at home.
          <ChannelSidebar key={`channels-${serverId}`} serverId={serverId} onClose={() => setMenuOpen(false)} />
        ) : (
          <ConversationSidebar onClose={() => setMenuOpen(false)} />
        )}
        <main className="app-main" id="main" tabIndex={-1} inert={drawerOpen}>
          <RouteNotice />
          <Outlet />
        </main>
        {/* Behind the member drawer on a phone (the drawer holds the focus): not a Tab stop then. */}
        <div className="shell-part" inert={memberDrawerOpen}>
          <UserPanel />
        </div>
        {membersShown && serverId && (
          <MemberPanel key={`members-${serverId}`} serverId={serverId} drawer={memberList.drawer} onClose={memberList.close} />
        )}
        {menuOpen && <div className="menu-scrim" aria-hidden="true" onClick={() => setMenuOpen(false)} />}
        {creatingServer && <CreateServerDialog onClose={() => setCreatingServer(false)} />}
      </div>
    </ShellContext.Provider>
  );
}
