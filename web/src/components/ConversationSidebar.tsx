import { useTranslation } from 'react-i18next';
import { CloseIcon } from './icons';

interface ConversationSidebarProps {
  onClose(): void;
}

/** The channel / conversation list next to the rail (empty for now). */
export function ConversationSidebar({ onClose }: ConversationSidebarProps) {
  const { t } = useTranslation();
  return (
    <aside className="sidebar" aria-label={t('shell.sidebarLabel')} id="sidebar">
      <header className="sidebar-header">
        <h2 className="sidebar-title">{t('shell.sidebarTitle')}</h2>
        <button
          type="button"
          className="icon-button sidebar-close"
          onClick={onClose}
          aria-label={t('shell.closeMenu')}
        >
          <CloseIcon />
        </button>
      </header>
      <p className="sidebar-empty">{t('shell.sidebarEmpty')}</p>
    </aside>
  );
}
