import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { PapoLogo, PlusIcon } from './icons';

/** The far-left column of server icons (none yet). */
export function ServerRail() {
  const { t } = useTranslation();
  return (
    <nav className="server-rail" aria-label={t('shell.servers')} data-testid="server-rail">
      <Link
        to="/app"
        className="rail-button rail-home rail-active"
        aria-current="page"
        aria-label={t('shell.home')}
        title={t('shell.home')}
      >
        <PapoLogo size={28} />
      </Link>
      <div className="rail-separator" role="separator" />
      <ul className="rail-servers" aria-label={t('shell.servers')} />
      <button
        type="button"
        className="rail-button rail-add"
        disabled
        aria-label={t('shell.addServer')}
        title={t('shell.addServer')}
        data-testid="add-server"
      >
        <PlusIcon size={22} />
      </button>
    </nav>
  );
}
