import { useTranslation } from 'react-i18next';
import { useServers } from '../state/context';
import { ChatBubblesIcon, PlusIcon } from './icons';
import { MainHeader } from './MainHeader';
import { useShell } from './shell';

/** `/app`: the home view. */
export function HomeView() {
  const { t } = useTranslation();
  return (
    <>
      <MainHeader>
        <h1 className="main-title">{t('shell.home')}</h1>
      </MainHeader>
      <EmptyState />
    </>
  );
}

/** Shown in the main area at home: create a server, or pick one. */
export function EmptyState() {
  const { t } = useTranslation();
  const servers = useServers();
  const { openCreateServer } = useShell();
  const hasServers = (servers?.length ?? 0) > 0;
  return (
    <section className="empty-state" data-testid="empty-state" aria-labelledby="empty-state-title">
      <span className="empty-state-art">
        <ChatBubblesIcon size={72} />
      </span>
      <h2 id="empty-state-title">{hasServers ? t('shell.homeTitle') : t('shell.emptyTitle')}</h2>
      <p>{hasServers ? t('shell.homeBody') : t('shell.emptyBody')}</p>
      {!hasServers && (
        <button type="button" className="button button-primary" onClick={openCreateServer} data-testid="empty-create-server">
          <PlusIcon size={18} />
          {t('servers.create.title')}
        </button>
      )}
    </section>
  );
}
