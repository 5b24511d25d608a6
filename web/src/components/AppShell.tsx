import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ConversationSidebar } from './ConversationSidebar';
import { EmptyState } from './EmptyState';
import { GatewayBanner } from './GatewayBanner';
import { MenuIcon } from './icons';
import { ServerRail } from './ServerRail';
import { UserPanel } from './UserPanel';

/** The logged-in frame: rail, sidebar, main area and user panel. */
export function AppShell() {
  const { t } = useTranslation();
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') setMenuOpen(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  return (
    <div className={menuOpen ? 'app-shell menu-open' : 'app-shell'} data-testid="app-shell">
      <a className="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <GatewayBanner />
      <ServerRail />
      <ConversationSidebar onClose={() => setMenuOpen(false)} />
      <main className="app-main" id="main" tabIndex={-1}>
        <header className="main-header">
          <button
            type="button"
            className="icon-button menu-toggle"
            onClick={() => setMenuOpen((open) => !open)}
            aria-expanded={menuOpen}
            aria-controls="sidebar"
            aria-label={menuOpen ? t('shell.closeMenu') : t('shell.openMenu')}
          >
            <MenuIcon />
          </button>
          <h1 className="main-title">{t('shell.home')}</h1>
        </header>
        <EmptyState />
      </main>
      <UserPanel />
      {menuOpen && (
        <div className="menu-scrim" aria-hidden="true" onClick={() => setMenuOpen(false)} />
      )}
    </div>
  );
}
