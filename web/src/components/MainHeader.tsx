import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { MenuIcon } from './icons';
import { MemberListToggle } from './members/MemberListToggle';
import { useShell } from './shell';

/** The bar at the top of the main area; on phones it holds the menu button. */
export function MainHeader({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const { menuOpen, toggleMenu } = useShell();
  return (
    <header className="main-header" data-testid="main-header">
      <button
        type="button"
        className="icon-button menu-toggle"
        onClick={toggleMenu}
        aria-expanded={menuOpen}
        aria-controls="sidebar"
        aria-label={menuOpen ? t('shell.closeMenu') : t('shell.openMenu')}
        data-testid="menu-toggle"
      >
        <MenuIcon />
      </button>
      {children}
      <MemberListToggle />
    </header>
  );
}
