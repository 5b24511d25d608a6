import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { useAuthActions, useCurrentUser } from '../state/context';
import { Avatar, displayNameOf } from './Avatar';
import { GearIcon, LogoutIcon } from './icons';

/** Bottom-left: who is logged in, with settings and log out. */
export function UserPanel() {
  const { t } = useTranslation();
  const user = useCurrentUser();
  const { logout } = useAuthActions();
  return (
    <section className="user-panel" aria-label={t('userPanel.label')} data-testid="user-panel">
      <Avatar user={user} />
      <div className="user-panel-names">
        <span className="user-panel-display-name" data-testid="user-panel-display-name">
          {displayNameOf(user)}
        </span>
        <span className="user-panel-username" data-testid="user-panel-username">
          {user.username}
        </span>
      </div>
      <Link
        to="/settings"
        className="icon-button"
        aria-label={t('userPanel.settings')}
        title={t('userPanel.settings')}
        data-testid="open-settings"
      >
        <GearIcon />
      </Link>
      <button
        type="button"
        className="icon-button"
        onClick={() => void logout()}
        aria-label={t('userPanel.logout')}
        title={t('userPanel.logout')}
        data-testid="logout-button"
      >
        <LogoutIcon />
      </button>
    </section>
  );
}
