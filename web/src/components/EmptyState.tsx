import { useTranslation } from 'react-i18next';
import { ChatBubblesIcon } from './icons';

/** Shown in the main area while the user has no servers. */
export function EmptyState() {
  const { t } = useTranslation();
  return (
    <section className="empty-state" data-testid="empty-state" aria-labelledby="empty-state-title">
      <span className="empty-state-art">
        <ChatBubblesIcon size={72} />
      </span>
      <h2 id="empty-state-title">{t('shell.emptyTitle')}</h2>
      <p>{t('shell.emptyBody')}</p>
    </section>
  );
}
