import { memo, useMemo, type KeyboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Message as MessageData, PublicUser, ReferencedMessage } from '../../api/types';
import { chatActions } from '../../state/chat';
import type { DisplayItem, PendingMessage } from '../../state/messages';
import { mentionsReader } from '../../state/readStates';
import { Avatar } from '../Avatar';
import { chatErrorText } from './chatErrors';
import { useAuthorName, useChatView, useDirectoryUser } from './chatContext';
import { RetryIcon } from './chatIcons';
import { dayKind, excerpt, messageTime } from './format';
import { ChatMarkdown } from './Markdown';
import { plainText, parseMarkdown } from './markdownParser';
import { MessageToolbar, ReactionChips } from './MessageActions';
import { MessageEditor } from './MessageEditor';
import { useTranslator } from '../useFormErrors';
import { useMentionNames } from './MentionSuggestions';

/**
 * Moves focus between messages (over dividers): arrows to the one above or below, Home and
 * End to the first and last loaded. The list is one tab stop (see `MessageList`), so these
 * keys are how the keyboard walks it.
 */
function onMessageKeyDown(event: KeyboardEvent<HTMLLIElement>) {
  if (event.target !== event.currentTarget) return;
  const isMessage = (e: Element | null): e is HTMLElement => e instanceof HTMLElement && e.dataset.testid === 'message';
  let next: Element | null = null;
  if (event.key === 'ArrowUp' || event.key === 'ArrowDown') {
    const step = (e: Element) => (event.key === 'ArrowUp' ? e.previousElementSibling : e.nextElementSibling);
    next = step(event.currentTarget);
    while (next !== null && !isMessage(next)) next = step(next);
  } else if (event.key === 'Home' || event.key === 'End') {
    const all = Array.from(event.currentTarget.parentElement?.children ?? []).filter(isMessage);
    next = (event.key === 'Home' ? all[0] : all[all.length - 1]) ?? null;
  }
  if (isMessage(next)) {
    event.preventDefault();
    next.focus();
  }
}

/**
 * One row of the message list (a confirmed message, one of ours on its way, or a divider).
 * `tabbable`: the message that is the list's tab stop (the others are reached with the arrows).
 */
export function MessageRow({ item, tabbable }: { item: DisplayItem; tabbable: boolean }) {
  // The message objects are stable while unchanged: memo skips the rows a new message does not touch.
  switch (item.kind) {
    case 'message':
      return <SentMessage message={item.message} startsGroup={item.startsGroup} tabbable={tabbable} />;
    case 'pending':
      return <PendingRow pending={item.pending} startsGroup={item.startsGroup} tabbable={tabbable} />;
    case 'day':
      return <DayDivider at={item.at} />;
    case 'new':
      return <NewDivider />;
  }
}

/** "Today", "Yesterday" or the date, above a day's first message (an item of the list; no `data-key`: not a scroll anchor). */
function DayDivider({ at }: { at: string }) {
  const { t, i18n } = useTranslation();
  const date = new Date(at);
  const kind = dayKind(date, new Date());
  const label =
    kind === 'today'
      ? t('chat.history.today')
      : kind === 'yesterday'
        ? t('chat.history.yesterday')
        : new Intl.DateTimeFormat(i18n.language, { dateStyle: 'long' }).format(date);
  return (
    <li className="day-divider" data-testid="day-divider">
      <span>{label}</span>
    </li>
  );
}

/** Above the first message that was unread when the channel was opened. */
function NewDivider() {
  const { t } = useTranslation();
  return (
    <li className="new-divider" data-testid="new-divider">
      <span aria-hidden="true">{t('chat.history.new')}</span>
      <span className="visually-hidden">{t('chat.history.newMessages')}</span>
    </li>
  );
}

interface RowProps {
  startsGroup: boolean;
  tabbable: boolean;
}

const SentMessage = memo(function SentMessage({ message, startsGroup, tabbable }: RowProps & { message: MessageData }) {
  const { t, i18n } = useTranslation();
  const view = useChatView();
  const editing = view.editingId === message.id;
  const mentioned = useMemo(
    () => message.author.id !== view.me.id && mentionsReader(message, { userId: view.me.id, roleIds: view.server.me.roles }),
    [message, view.me.id, view.server.me.roles],
  );
  const classes = ['message', startsGroup ? 'message-group-start' : '', mentioned ? 'message-mentioned' : '', editing ? 'message-editing' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <li
      className={classes}
      tabIndex={tabbable ? 0 : -1}
      onKeyDown={onMessageKeyDown}
      data-testid="message"
      data-message-id={message.id}
      data-key={message.id}
    >
      {message.reply_to !== null && <ReplyContext reference={message.referenced_message} />}
      <MessageBody author={message.author} createdAt={message.created_at} startsGroup={startsGroup}>
        {editing ? (
          <MessageEditor
            message={message}
            onDone={() => {
              view.setEditingId(null);
              view.focusComposer();
            }}
            onEmpty={() => {
              view.setEditingId(null);
              view.requestDelete(message);
            }}
          />
        ) : (
          <div className="message-content" data-testid="message-content">
            <ChatMarkdown content={message.content} mentionEveryone={message.mention_everyone} />
            {message.edited_at && (
              <span className="message-edited" title={messageTime(message.edited_at, i18n.language, new Date())?.full} data-testid="edited-marker">
                {' '}
                {t('chat.edited')}
              </span>
            )}
          </div>
        )}
        <ReactionChips message={message} />
      </MessageBody>
      {!editing && <MessageToolbar message={message} />}
    </li>
  );
});

const PendingRow = memo(function PendingRow({ pending, startsGroup, tabbable }: RowProps & { pending: PendingMessage }) {
  const { t } = useTranslation();
  const tr = useTranslator();
  const failed = pending.status === 'failed';
  return (
    <li
      className={`message message-pending${failed ? ' message-failed' : ''}${startsGroup ? ' message-group-start' : ''}`}
      tabIndex={tabbable ? 0 : -1}
      onKeyDown={onMessageKeyDown}
      data-testid="message"
      data-pending={failed ? undefined : 'true'}
      data-failed={failed ? 'true' : undefined}
      data-nonce={pending.nonce}
      data-key={`pending:${pending.nonce}`}
    >
      {pending.reply_to !== null && <ReplyContext reference={pending.referenced_message} />}
      <MessageBody author={pending.author} createdAt={pending.created_at} startsGroup={startsGroup}>
        <div className="message-content" data-testid="message-content">
          <ChatMarkdown content={pending.content} mentionEveryone={false} />
        </div>
        {failed && (
          <div className="message-failure" role="alert" data-testid="send-failed">
            <span>{t('chat.send.failed', { reason: chatErrorText(tr, pending.error) })}</span>
            <button
              type="button"
              className="chat-link-button"
              onClick={() => void chatActions.retry(pending.channel_id, pending.nonce)}
              data-testid="retry-button"
            >
              <RetryIcon size={14} /> {t('chat.send.retry')}
            </button>
            <button
              type="button"
              className="chat-link-button"
              onClick={() => chatActions.discard(pending.channel_id, pending.nonce)}
              data-testid="discard-button"
            >
              {t('chat.send.discard')}
            </button>
          </div>
        )}
        {!failed && <span className="chat-sr-only">{t('chat.send.sending')}</span>}
      </MessageBody>
    </li>
  );
});

interface MessageBodyProps {
  author: PublicUser;
  createdAt: string;
  startsGroup: boolean;
  children: ReactNode;
}

/** Avatar + name + time for the first message of a group; the time in the gutter for the others. */
function MessageBody({ author, createdAt, startsGroup, children }: MessageBodyProps) {
  const { t, i18n } = useTranslation();
  const view = useChatView();
  const name = useAuthorName(view.server.id, author);
  const shown = useDirectoryUser(author.id) ?? author;
  const time = messageTime(createdAt, i18n.language, new Date());
  const when = time
    ? time.kind === 'today'
      ? t('chat.time.today', { time: time.time })
      : time.kind === 'yesterday'
        ? t('chat.time.yesterday', { time: time.time })
        : t('chat.time.other', { date: time.date, time: time.time })
    : '';
  return (
    <div className="message-body">
      <div className="message-gutter">
        {startsGroup ? (
          <button
            type="button"
            className="message-author-button"
            onClick={(event) => view.openMember(author.id, event.currentTarget)}
            aria-label={t('chat.openProfile', { name })}
            tabIndex={-1}
          >
            <Avatar user={shown} size={40} />
          </button>
        ) : (
          time && (
            <time className="message-gutter-time" dateTime={createdAt} title={time.full}>
              {time.time}
            </time>
          )
        )}
      </div>
      <div className="message-main">
        {startsGroup && (
          <header className="message-header">
            <button
              type="button"
              className="message-author-button message-author"
              onClick={(event) => view.openMember(author.id, event.currentTarget)}
              // A pointer's shortcut, as the avatar: one Tab stop less per message (the member
              // list opens the same card from the keyboard).
              tabIndex={-1}
              data-testid="message-author"
            >
              {name}
            </button>
            {time && (
              <time className="message-time" dateTime={createdAt} title={time.full}>
                {when}
              </time>
            )}
          </header>
        )}
        {children}
      </div>
    </div>
  );
}

/** The line above a reply: who and what it answers (click: scroll to it). */
function ReplyContext({ reference }: { reference: ReferencedMessage | null }) {
  const { t } = useTranslation();
  const view = useChatView();
  const name = useAuthorName(view.server.id, reference?.author ?? { id: '', username: '', display_name: null });
  const fresh = useDirectoryUser(reference?.author.id ?? '');
  const names = useMentionNames(view.server.id);
  const roles = view.server.roles;
  // Mentions read as names here too, not as <@id>.
  const text = useMemo(
    () =>
      reference
        ? excerpt(
            plainText(parseMarkdown(reference.content), {
              user: names.nameOf,
              role: (id) => roles.find((r) => r.id === id)?.name ?? null,
            }),
          )
        : '',
    [reference, names, roles],
  );
  if (!reference) {
    return (
      <div className="message-reply message-reply-missing" data-testid="reply-context">
        <span className="message-reply-spine" aria-hidden="true" />
        <span>{t('chat.reply.deleted')}</span>
      </div>
    );
  }
  // The whole line jumps on a click, as in Discord (its avatar and name too); the quote is the
  // button that the keyboard reaches, its click coming up here.
  return (
    <div
      className="message-reply message-reply-link"
      data-testid="reply-context"
      data-reply-to={reference.id}
      onClick={() => view.jumpTo(reference.id)}
    >
      <span className="message-reply-spine" aria-hidden="true" />
      <Avatar user={fresh ?? reference.author} size={16} />
      <span className="message-reply-author">@{name}</span>
      <button
        type="button"
        className="message-reply-excerpt"
        // Named by the quote it shows (as it reads); what it does is its description.
        title={t('chat.reply.jump', { name })}
      >
        {text}
      </button>
    </div>
  );
}
