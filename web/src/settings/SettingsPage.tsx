import { useEffect } from 'react';
import { Link, NavLink, Outlet, useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { useAuthActions } from '../state/context';
import { GatewayBanner } from '../components/GatewayBanner';
import { CloseIcon } from '../components/icons';
import { lastAppPath } from '../state/returnPath';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { usePageFocus } from '../components/usePageFocus';

export const SETTINGS_SECTIONS = ['profile', 'language', 'appearance', 'sessions', 'password'] as const;

/** Full-screen user settings: section list on the left, the section on the right. */
export function SettingsPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('settings.title'));
  usePageFocus('[data-testid="open-settings"]');
  const { logout } = useAuthActions();
  const navigate = useNavigate();

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      // Back where the settings were opened from (a channel, not Home); Escape in a dialog
      // (log out the other devices…) closes only the dialog.
      if (event.key === 'Escape' && !event.defaultPrevented && !document.querySelector('dialog[open]')) {
        navigate(lastAppPath());
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);

  return (
    <div className="settings" data-testid="settings">
      <GatewayBanner floating />
      <nav className="settings-nav" aria-label={t('settings.navLabel')}>
        <div className="settings-nav-inner">
          <h2 className="settings-nav-title">{t('settings.title')}</h2>
          <ul>
            {SETTINGS_SECTIONS.map((section) => (
              <li key={section}>
                <NavLink
                  to={`/settings/${section}`}
                  className="settings-nav-item"
                  data-testid={`settings-nav-${section}`}
                >
                  {t(`settings.nav.${section}`)}
                </NavLink>
              </li>
            ))}
          </ul>
          <hr className="settings-nav-divider" />
          <button
            type="button"
            className="settings-nav-item settings-nav-logout"
            onClick={() => void logout()}
            data-testid="settings-logout"
          >
            {t('settings.nav.logout')}
          </button>
        </div>
      </nav>
      <main className="settings-content">
        <div className="settings-content-inner">
          <Outlet />
        </div>
        <div className="settings-close">
          <Link
            to={lastAppPath()}
            className="settings-close-button"
            aria-label={t('settings.close')}
            title={t('settings.close')}
            data-testid="close-settings"
          >
            <CloseIcon />
          </Link>
          <span className="settings-close-hint" aria-hidden="true">
            {t('settings.closeHint')}
          </span>
        </div>
      </main>
    </div>
  );
}
