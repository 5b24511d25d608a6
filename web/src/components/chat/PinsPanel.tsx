import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Message } from '../../api/types';
import { chatActions, useChat } from '../../state/chat';
import { Avatar } from '../Avatar';
import { CloseIcon } from '../icons';
import { useTranslator } from '../useFormErrors';
import { chatErrorText } from './chatErrors';
import { useAuthorName, useChatView, useDirectoryUser } from './chatContext';
import { messageTime } from './format';
import { ChatMarkdown } from './Markdown';
import './pins.css';

/** The channel's pinned messages (newest pin first); reloads when the pins change. */
/** `onClose(refocus)`: closed from the keyboard or its button (the focus goes back to the opener), or by a click elsewhere. */
export function PinsPanel({ onClose }: { onClose(refocus: boolean): void }) {
  const { t } = useTranslation();
  const tr = useTranslator();
  const view = useChatView();
  const channelId = view.channel.id;
  const version = useChat((s) => s.pinsVersion[channelId] ?? 0);
  const [pins, setPins] = useState<Message[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const ref = useRef<HTMLElement>(null);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    chatActions
      .pins(channelId)
      .then((list) => !cancelled && setPins(list))
      .catch((err: unknown) => !cancelled && setError(err));
    return () => {
      cancelled = true;
    };
  }, [channelId, version]);

  useEffect(() => {
    ref.current?.focus();
  }, []);

  // A click outside closes it, as other popouts do (its own toggle button toggles it).
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target instanceof Element ? event.target : null;
      if (!target || ref.current?.contains(target) || target.closest('[data-testid="pins-button"]')) return;
      close.current(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, []);

  return (
    <aside
      ref={ref}
      className="pins-panel"
      aria-label={t('chat.pins.title')}
      tabIndex={-1}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          onClose(true);
        }
      }}
      data-testid="pins-panel"
    >
      <header className="pins-header">
        <h2>{t('chat.pins.title')}</h2>
        <button type="button" className="icon-button" onClick={() => onClose(true)} aria-label={t('common.close')} data-testid="pins-close">
          <CloseIcon size={18} />
        </button>
      </header>
      {error !== null && (
        <p className="chat-inline-error" role="alert">
          {chatErrorText(tr, error)}
        </p>
      )}
      {pins === null && error === null && <p className="pins-empty">{t('app.loading')}</p>}
      {pins !== null && pins.length === 0 && <p className="pins-empty">{t('chat.pins.empty')}</p>}
      {pins !== null && pins.length > 0 && (
        <ul className="pins-list">
          {pins.map((message) => (
            <PinnedMessage
              key={message.id}
              message={message}
              onUnpinned={() => {
                // Its button goes with it: keep the focus in the panel (Escape still closes it).
                ref.current?.focus();
                setPins((list) => list?.filter((m) => m.id !== message.id) ?? null);
              }}
            />
          ))}
        </ul>
      )}
    </aside>
  );
}

function PinnedMessage({ message, onUnpinned }: { message: Message; onUnpinned(): void }) {
  const { t, i18n } = useTranslation();
  const view = useChatView();
  const name = useAuthorName(view.server.id, message.author);
  const author = useDirectoryUser(message.author.id) ?? message.author;
  const time = messageTime(message.created_at, i18n.language, new Date());
  return (
    <li className="pinned-message" data-testid="pinned-message" data-message-id={message.id}>
      <header className="pinned-header">
        <Avatar user={author} size={24} />
        <span className="message-author">{name}</span>
        {time && (
          <time className="message-time" dateTime={message.created_at} title={time.full}>
            {time.date}
          </time>
        )}
      </header>
      <div className="message-content">
        <ChatMarkdown content={message.content} mentionEveryone={message.mention_everyone} />
      </div>
      <div className="pinned-actions">
        <button type="button" className="chat-link-button" onClick={() => view.jumpTo(message.id)}>
          {t('chat.pins.jump')}
        </button>
        {view.perms.manage && (
          <button
            type="button"
            className="chat-link-button"
            onClick={() =>
              chatActions
                .setPinned(message, false)
                .then(onUnpinned)
                .catch(view.report)
            }
            data-testid="unpin-button"
          >
            {t('chat.actions.unpin')}
          </button>
        )}
      </div>
    </li>
  );
}
