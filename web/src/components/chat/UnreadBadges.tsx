import { useTranslation } from 'react-i18next';
import type { ServerDetail } from '../../api/types';
import { useServerUnread } from '../../state/chat';
import './chat.css';
import './unread.css';

/** A red count of unread mentions (99+ past 99). `id`: to describe a link with it. */
export function MentionBadge({ count, id }: { count: number; id?: string }) {
  const { t } = useTranslation();
  if (count <= 0) return null;
  return (
    <span className="mention-badge" id={id} data-testid="mention-badge" data-count={count} aria-label={t('chat.unread.mentions', { count })}>
      {count > 99 ? '99+' : count}
    </span>
  );
}

/** The channel row's unread pill (the name turns bold through `channel-row-unread`). */
export function UnreadDot({ channelId }: { channelId: string }) {
  return <span className="unread-dot" data-testid="unread-dot" data-channel-id={channelId} aria-hidden="true" />;
}

/** Unread pill and mention badge on a server's rail icon; `describedBy` names the hidden description. */
export function ServerUnread({ server, active, describedBy }: { server: ServerDetail; active: boolean; describedBy: string }) {
  const { t } = useTranslation();
  const { unread, mentions } = useServerUnread(server);
  if (!unread && mentions === 0) return null;
  return (
    <>
      {unread && !active && <span className="server-unread-pill" aria-hidden="true" />}
      <span className="server-unread" data-testid="server-unread" data-server-id={server.id} data-mentions={mentions}>
        <span id={describedBy} className="chat-sr-only">
          {mentions > 0 ? t('chat.unread.mentions', { count: mentions }) : t('chat.unread.unread')}
        </span>
        {mentions > 0 && (
          <span className="mention-badge rail-mention-badge" data-testid="mention-badge" aria-hidden="true">
            {mentions > 99 ? '99+' : mentions}
          </span>
        )}
      </span>
    </>
  );
}
