import { useCallback, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Message } from '../../api/types';
import { chatActions } from '../../state/chat';
import { TrashIcon } from '../icons';
import { useChatView } from './chatContext';
import { PencilIcon, PinIcon, ReplyIcon, SmileIcon } from './chatIcons';
import { ReactionPicker } from './ReactionPicker';

/**
 * The buttons shown over a message on hover or keyboard focus: react, reply,
 * edit (own), pin (manage_messages), delete (own, or manage_messages).
 */
export function MessageToolbar({ message }: { message: Message }) {
  const { t } = useTranslation();
  const view = useChatView();
  /** Open, and which way (the picker opens upwards near the bottom of the list). */
  const [picking, setPicking] = useState<'up' | 'down' | null>(null);
  const ref = useRef<HTMLDivElement>(null);
  const reactButton = useRef<HTMLButtonElement>(null);
  const own = message.author.id === view.me.id;
  const closePicker = useCallback(() => setPicking(null), []);

  const togglePicker = () => {
    if (picking) {
      setPicking(null);
      return;
    }
    const toolbar = ref.current?.getBoundingClientRect();
    const list = ref.current?.closest('[data-testid="message-list"]')?.getBoundingClientRect();
    setPicking(toolbar && list && list.bottom - toolbar.bottom < 200 ? 'up' : 'down');
  };

  const react = (emoji: string) => {
    setPicking(null);
    // The picker goes: the focus goes back to the button that opened it.
    reactButton.current?.focus();
    chatActions.toggleReaction(message, emoji).catch(view.report);
  };

  return (
    <div
      ref={ref}
      className={picking ? 'message-toolbar message-toolbar-open' : 'message-toolbar'}
      role="toolbar"
      aria-label={t('chat.actions.label')}
    >
      {view.perms.react && (
        <button
          ref={reactButton}
          type="button"
          className="message-tool"
          aria-label={t('chat.actions.react')}
          title={t('chat.actions.react')}
          aria-expanded={picking !== null}
          onClick={togglePicker}
          data-testid="react-button"
        >
          <SmileIcon size={18} />
        </button>
      )}
      {/* Quoting needs the history too (the server refuses it without). */}
      {view.perms.send && view.perms.read && (
        <button
          type="button"
          className="message-tool"
          aria-label={t('chat.actions.reply')}
          title={t('chat.actions.reply')}
          onClick={() => {
            view.setReplyTo(message);
            view.focusComposer();
          }}
          data-testid="reply-button"
        >
          <ReplyIcon size={18} />
        </button>
      )}
      {own && view.perms.editOwn && (
        <button
          type="button"
          className="message-tool"
          aria-label={t('chat.actions.edit')}
          title={t('chat.actions.edit')}
          onClick={() => view.setEditingId(message.id)}
          data-testid="edit-button"
        >
          <PencilIcon size={18} />
        </button>
      )}
      {view.perms.manage && (
        <button
          type="button"
          className="message-tool"
          aria-label={message.pinned ? t('chat.actions.unpin') : t('chat.actions.pin')}
          title={message.pinned ? t('chat.actions.unpin') : t('chat.actions.pin')}
          aria-pressed={message.pinned}
          onClick={() => chatActions.setPinned(message, !message.pinned).catch(view.report)}
          data-testid="pin-button"
        >
          <PinIcon size={18} />
        </button>
      )}
      {(own || view.perms.manage) && (
        <button
          type="button"
          className="message-tool message-tool-danger"
          aria-label={t('chat.actions.delete')}
          title={t('chat.actions.delete')}
          onClick={() => view.requestDelete(message)}
          data-testid="delete-button"
        >
          <TrashIcon size={18} />
        </button>
      )}
      {picking && (
        <ReactionPicker
          up={picking === 'up'}
          trigger={reactButton}
          onPick={react}
          onClose={closePicker}
          mine={(message.reactions ?? []).filter((r) => r.me).map((r) => r.emoji)}
        />
      )}
    </div>
  );
}

/** The reactions under a message; a chip toggles our own reaction. */
export function ReactionChips({ message }: { message: Message }) {
  const { t } = useTranslation();
  const view = useChatView();
  const reactions = message.reactions ?? [];
  if (reactions.length === 0) return null;
  return (
    <div className="reactions" role="group" aria-label={t('chat.reactions.label')}>
      {reactions.map((r) => (
        <button
          key={r.emoji}
          type="button"
          className={r.me ? 'reaction reaction-mine' : 'reaction'}
          aria-pressed={r.me}
          aria-label={t('chat.reactions.chip', { emoji: r.emoji, count: r.count })}
          // Removing our own reaction needs no permission; adding one needs add_reactions.
          disabled={!r.me && !view.perms.react}
          onClick={() => chatActions.toggleReaction(message, r.emoji).catch(view.report)}
          data-testid="reaction"
          data-emoji={r.emoji}
        >
          <span className="reaction-emoji" aria-hidden="true">
            {r.emoji}
          </span>
          <span className="reaction-count" aria-hidden="true">
            {r.count}
          </span>
        </button>
      ))}
    </div>
  );
}
