import { useEffect, useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import { MESSAGE_MAX_LENGTH } from '../../api/messages';
import { gateway } from '../../gateway';
import { chatActions, chatStore } from '../../state/chat';
import { draftOf, saveDraft } from '../../state/drafts';
import { shouldSendTyping } from '../../state/typing';
import { CloseIcon } from '../icons';
import { cooldownSeconds } from './chatErrors';
import { useAuthorName, useChatView } from './chatContext';
import { SendIcon } from './chatIcons';
import { encodeMentions } from './mentionComplete';
import { MentionSuggestions, useBoxMentions } from './MentionSuggestions';
import { secondsLeft } from './format';
import { useNow } from './useNow';
import './composer.css';

/** Show the remaining characters when fewer than this are left. */
const COUNTER_BELOW = 200;

interface ComposerProps {
  inputRef: RefObject<HTMLTextAreaElement | null>;
  /** Set when the user may not send here: the reason, shown instead of the input. */
  disabledReason: string | null;
  /** Slow mode applies to this member (no manage_messages / manage_channels). */
  slowmodeSecs: number;
  /** Before sending from a window away from the present. */
  onSend(): void;
}

/** The message box: Enter sends, Shift+Enter adds a line; a reply preview above it. */
export function Composer({ inputRef, disabledReason, slowmodeSecs, onSend }: ComposerProps) {
  const { t } = useTranslation();
  const view = useChatView();
  const { channel, replyTo, setReplyTo } = view;
  // The channel's unsent text comes back (switching channels, reloading), as it is kept. A
  // composer serves one channel (its ChatView is keyed by the channel): the text is that
  // channel's, and saved as its draft.
  const { text, setText, names, roles: mentionRoles, mentions, boxProps, setCaret } = useBoxMentions(inputRef, () =>
    draftOf(view.me.id, channel.id),
  );
  useEffect(() => saveDraft(view.me.id, channel.id, text), [view.me.id, channel.id, text]);
  const [cooldownUntil, setCooldownUntil] = useState<number | null>(null);
  const lastTyping = useRef<number | null>(null);
  const now = useNow(cooldownUntil !== null);
  const cooling = cooldownUntil !== null && cooldownUntil > now;

  useEffect(() => {
    if (cooldownUntil !== null && cooldownUntil <= now) setCooldownUntil(null);
  }, [cooldownUntil, now]);

  // What is sent: the members' @usernames as <@id>, roles as <@&id> (those count towards the limit too).
  const wire = encodeMentions(text, names.idOf, mentionRoles.roles);
  const tooLong = Array.from(wire).length > MESSAGE_MAX_LENGTH;
  const remaining = MESSAGE_MAX_LENGTH - Array.from(wire).length;

  function onChange(value: string, selection: number) {
    setText(value);
    setCaret(selection);
    const at = Date.now();
    if (shouldSendTyping(lastTyping.current, at, value) && gateway.typingStart(channel.id)) lastTyping.current = at;
  }

  async function send() {
    const content = wire.trim();
    if (!content || tooLong || cooling) return;
    onSend();
    setText('');
    setReplyTo(null);
    lastTyping.current = null;
    if (slowmodeSecs > 0) setCooldownUntil(Date.now() + slowmodeSecs * 1000);
    const outcome = await chatActions.send({ channelId: channel.id, serverId: channel.server_id, content, replyTo });
    if (!outcome.ok) {
      // The failed message says why (with Retry); here only the wait before sending again.
      const wait = cooldownSeconds(outcome.error);
      // The server's word on the wait replaces our own guess.
      setCooldownUntil(wait !== null ? Date.now() + wait * 1000 : null);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (mentions.onKeyDown(event)) return;
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    } else if (event.key === 'Escape' && replyTo) {
      event.preventDefault();
      setReplyTo(null);
    } else if (event.key === 'ArrowUp' && text === '') {
      // Edit our last message, as in other chat apps.
      const messages = chatStore.getState().messages[channel.id]?.messages ?? [];
      const last = [...messages].reverse().find((m) => m.author.id === view.me.id);
      if (last) {
        event.preventDefault();
        view.setEditingId(last.id);
      }
    }
  }

  if (disabledReason) {
    return (
      <div className="composer composer-disabled" data-testid="composer-disabled">
        <p>{disabledReason}</p>
      </div>
    );
  }

  const rows = Math.min(10, Math.max(1, text.split('\n').length));
  return (
    <div className="composer-wrap">
      <MentionSuggestions mentions={mentions} />
      {replyTo && <ReplyBar onCancel={() => setReplyTo(null)} />}
      <form
        className={replyTo ? 'composer composer-replying' : 'composer'}
        onSubmit={(event) => {
          event.preventDefault();
          void send();
        }}
      >
        <textarea
          ref={inputRef}
          className="composer-input"
          value={text}
          rows={rows}
          onChange={(event) => onChange(event.target.value, event.target.selectionStart)}
          {...boxProps}
          onKeyDown={onKeyDown}
          placeholder={t('chat.composer.placeholder', { name: channel.name })}
          aria-label={t('chat.composer.label', { name: channel.name })}
          aria-invalid={tooLong || undefined}
          data-testid="composer"
        />
        <button
          type="submit"
          className="icon-button composer-send"
          aria-label={t('chat.composer.send')}
          title={t('chat.composer.send')}
          disabled={!text.trim() || tooLong || cooling}
          data-testid="send-button"
        >
          <SendIcon size={18} />
        </button>
      </form>
      <div className="composer-status" aria-live="polite">
        {remaining < COUNTER_BELOW && (
          <span className={tooLong ? 'composer-counter composer-counter-over' : 'composer-counter'}>{remaining}</span>
        )}
        {tooLong && (
          <span className="composer-counter-over" role="alert" data-testid="composer-too-long">
            {t('chat.errors.tooLong')}
          </span>
        )}
        {cooling && cooldownUntil !== null && (
          <span className="composer-cooldown" data-testid="slowmode-countdown">
            {t('chat.composer.cooldown', { seconds: secondsLeft(cooldownUntil, now) })}
          </span>
        )}
        {!cooling && slowmodeSecs > 0 && <span className="composer-slowmode">{t('chat.composer.slowmode', { seconds: slowmodeSecs })}</span>}
      </div>
    </div>
  );
}

function ReplyBar({ onCancel }: { onCancel(): void }) {
  const { t } = useTranslation();
  const view = useChatView();
  const replyTo = view.replyTo;
  const name = useAuthorName(view.server.id, replyTo?.author ?? { id: '', username: '', display_name: null });
  if (!replyTo) return null;
  return (
    <div className="composer-reply" data-testid="reply-preview">
      <span>{t('chat.reply.replyingTo', { name })}</span>
      <button
        type="button"
        className="icon-button composer-reply-cancel"
        onClick={onCancel}
        aria-label={t('chat.reply.cancel')}
        title={t('chat.reply.cancel')}
        data-testid="cancel-reply"
      >
        <CloseIcon size={16} />
      </button>
    </div>
  );
}
