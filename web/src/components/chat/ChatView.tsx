import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { computeChannelPermissions, has } from '../../api/permissions';
import type { Channel, Message, ServerDetail } from '../../api/types';
import { chatActions, chatStore, useChannelMessages, useChat } from '../../state/chat';
import { useCurrentUser } from '../../state/context';
import { isGoneFrom, needsInitialLoad, newestMessageId, type ChannelMessages } from '../../state/messages';
import { compareIds } from '../../state/servers';
import { displayNameOf } from '../Avatar';
import { ackTarget, channelUnread, readPosition } from '../../state/readStates';
import { ConfirmDialog } from '../ConfirmDialog';
import { CloseIcon, HashIcon } from '../icons';
import { MainHeader } from '../MainHeader';
import { MemberCard } from '../members/MemberCard';
import { useDocumentTitle } from '../useDocumentTitle';
import { useTranslator } from '../useFormErrors';
import { chatErrorText } from './chatErrors';
import { ChatViewContext, type ChatPermissions, type ChatView as ChatViewValue } from './chatContext';
import { PinIcon } from './chatIcons';
import { Composer } from './Composer';
import { excerpt, messageTime } from './format';
import { plainText, parseMarkdown } from './markdownParser';
import { useMentionNames } from './MentionSuggestions';
import { placeOf } from '../../state/places';
import { MessageList } from './MessageList';
import { PinsPanel } from './PinsPanel';
import { TypingIndicator } from './TypingIndicator';
import { useDocumentVisible, useRedrawAt } from './useNow';
import './chat.css';

/** Acknowledge this long after the newest message was shown (and nothing newer came). */
export const ACK_DEBOUNCE_MS = 1_000;
const NOTICE_MS = 8_000;

/** A text channel: its history, the composer, typing, pins. Keyed by channel id. */
export function ChatView({ server, channel }: { server: ServerDetail; channel: Channel }) {
  const { t, i18n } = useTranslation();
  const tr = useTranslator();
  const me = useCurrentUser();
  const history = useChannelMessages(channel.id);
  useDocumentTitle(`#${channel.name} | ${server.name}`);
  const stored = useChat((s) => s.messages[channel.id]);
  const [initial, setInitial] = useState<'loading' | 'ready' | { error: unknown }>(() =>
    needsInitialLoad(stored) ? 'loading' : 'ready',
  );
  const [attempt, setAttempt] = useState(0);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  // The message replied to was deleted (by anyone): no reply to send any more.
  const replyGone = replyTo !== null && isGoneFrom(stored, replyTo.id);
  useEffect(() => {
    if (replyGone) setReplyTo(null);
  }, [replyGone]);
  const [editingId, setEditingId] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Message | null>(null);
  const [notice, setNotice] = useState<unknown>(null);
  const [pinsOpen, setPinsOpen] = useState(false);
  const [jumpTarget, setJumpTarget] = useState<string | null>(null);
  const [bottomSignal, setBottomSignal] = useState(0);
  const composerRef = useRef<HTMLTextAreaElement>(null);
  const pinsButton = useRef<HTMLButtonElement>(null);

  // What we may do here: roles + the channel's overwrites, a timeout leaves only reading.
  // `server.me` carries our timeout (member.updated about us keeps it fresh).
  const timeoutUntil = server.me.timeout_until;
  // Drawn again when the timeout ends (the composer comes back).
  useRedrawAt([timeoutUntil ? Date.parse(timeoutUntil) : null]);
  const now = Date.now();
  const bits = computeChannelPermissions({
    userId: me.id,
    server,
    memberRoles: server.me.roles,
    overwrites: channel.overwrites,
    timeoutUntil,
    now,
  });
  const timedOut = timeoutUntil !== null && Date.parse(timeoutUntil) > now && server.owner_id !== me.id;
  const perms: ChatPermissions = useMemo(
    () => ({
      send: has(bits, 'send_messages'),
      read: has(bits, 'read_message_history'),
      react: has(bits, 'add_reactions'),
      manage: has(bits, 'manage_messages'),
      mentionEveryone: has(bits, 'mention_everyone'),
      editOwn: !timedOut,
    }),
    [bits, timedOut],
  );
  const slowmodeSecs = channel.slowmode_secs > 0 && !has(bits, 'manage_messages') && !has(bits, 'manage_channels') ? channel.slowmode_secs : 0;

  useEffect(() => {
    chatStore.setOpenChannel(channel.id);
    return () => {
      if (chatStore.openChannel() === channel.id) chatStore.setOpenChannel(null);
    };
  }, [channel.id]);

  const mustLoad = needsInitialLoad(stored);
  useEffect(() => {
    if (!perms.read || !mustLoad) {
      setInitial('ready');
      return;
    }
    let cancelled = false;
    setInitial('loading');
    chatActions.loadLatest(channel.id).then(
      () => !cancelled && setInitial('ready'),
      (error: unknown) => !cancelled && setInitial({ error }),
    );
    return () => {
      cancelled = true;
    };
  }, [channel.id, perms.read, mustLoad, attempt]);

  // Looking at the newest messages of a visible page: they count as read; ack after a second.
  // Scrolled up, the user is not looking at them: what comes stays unread, mentions too.
  const visible = useDocumentVisible();
  const [atBottom, setAtBottom] = useState(() => placeOf(channel.id) === null);
  const viewing = visible && perms.read && history.atPresent && atBottom && initial === 'ready';
  useEffect(() => {
    chatStore.setViewing(viewing ? channel.id : null);
    return () => chatStore.setViewing(null);
  }, [viewing, channel.id]);
  // The "new messages" divider: where the user had read to when they came to the channel (or
  // back to the page), if something was unread then. It stays while they read on (the ack
  // moves the read state, not the divider), and goes when they send.
  const [newAfter, setNewAfter] = useState<string | null>(null);
  const readStatesLoaded = useChat((s) => s.readStates.loaded);
  useEffect(() => {
    if (!viewing || !readStatesLoaded) return;
    const readStates = chatStore.getState().readStates;
    // Nothing known read (a channel made since `ready`): every message in it is new.
    if (channelUnread(readStates, channel).unread) setNewAfter(readPosition(readStates, channel.id) ?? '0');
    // Only when the user arrives: not on every change of the channel while they look at it.
  }, [viewing, readStatesLoaded, channel.id]);
  const newMark = useMemo(() => ({ after: newAfter, meId: me.id }), [newAfter, me.id]);
  const markRead = useCallback(() => setNewAfter(null), []);
  // A message from someone else arriving while the channel is open is read out (politely).
  const announcement = useNewMessageAnnouncement(server, history, me.id, initial === 'ready');
  const newest = newestMessageId(history);
  const target = useChat((s) => ackTarget(s.readStates, channel.id, newest, viewing));
  useEffect(() => {
    if (!target) return;
    const timer = setTimeout(() => void chatActions.ack(channel.id, target), ACK_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [target, channel.id]);

  useEffect(() => {
    if (notice === null) return;
    const timer = setTimeout(() => setNotice(null), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice]);

  const focusComposer = useCallback(() => composerRef.current?.focus(), []);
  const jumpTo = useCallback(
    (messageId: string) => {
      chatActions.loadAround(channel.id, messageId).then(() => setJumpTarget(messageId), setNotice);
    },
    [channel.id],
  );
  const onJumped = useCallback(() => setJumpTarget(null), []);
  // A link to one message (`…/channels/<id>?message=<id>`, as the audit log gives): once the
  // channel's first page is in (else it would replace the page around the message), go there
  // and take the message out of the address, so that going back does not jump again.
  const [params, setParams] = useSearchParams();
  const linked = params.get('message');
  useEffect(() => {
    if (!linked || initial !== 'ready') return;
    jumpTo(linked);
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        next.delete('message');
        return next;
      },
      { replace: true },
    );
  }, [linked, initial, jumpTo, setParams]);
  const [card, setCard] = useState<{ userId: string; trigger: HTMLElement } | null>(null);
  // A second click on the same name closes the card.
  const openMember = useCallback(
    (userId: string, trigger: HTMLElement) =>
      setCard((open) => (open?.userId === userId && open.trigger === trigger ? null : { userId, trigger })),
    [],
  );

  const view = useMemo<ChatViewValue>(
    () => ({
      server,
      channel,
      me,
      perms,
      replyTo,
      setReplyTo,
      editingId,
      setEditingId,
      requestDelete: setDeleting,
      report: setNotice,
      focusComposer,
      jumpTo,
      openMember,
    }),
    [server, channel, me, perms, replyTo, editingId, focusComposer, jumpTo, openMember],
  );

  let disabledReason: string | null = null;
  if (!perms.send) {
    const until = timedOut && timeoutUntil ? messageTime(timeoutUntil, i18n.language, new Date(now)) : null;
    // Ending today: the time says enough ("until 17:45"), else the day too.
    const when = until ? (until.kind === 'today' ? until.time : until.full) : null;
    disabledReason = when ? t('chat.composer.timedOut', { time: when }) : t('chat.composer.noPermission');
  }

  return (
    <ChatViewContext.Provider value={view}>
      <MainHeader>
        <span className="main-header-icon">
          <HashIcon size={22} />
        </span>
        <h1 className="main-title" data-testid="channel-title" title={channel.name}>
          {channel.name}
        </h1>
        {channel.topic ? (
          <>
            <span className="main-header-divider" aria-hidden="true" />
            <p className="main-topic" title={channel.topic} data-testid="channel-topic">
              {channel.topic}
            </p>
          </>
        ) : (
          <span className="chat-header-spacer" />
        )}
        <button
          type="button"
          className="icon-button"
          aria-label={t('chat.pins.open')}
          title={t('chat.pins.title')}
          aria-expanded={pinsOpen}
          onClick={() => setPinsOpen((open) => !open)}
          ref={pinsButton}
          data-testid="pins-button"
        >
          <PinIcon size={20} />
        </button>
      </MainHeader>
      <div className="chat" data-testid="chat-view" data-channel-id={channel.id}>
        <div className="chat-column">
          <p className="visually-hidden" aria-live="polite" data-testid="message-announcement">
            {announcement}
          </p>
          {perms.read ? (
            <MessageList
              channel={channel}
              history={history}
              newMark={newMark}
              onMarkRead={markRead}
              initial={initial}
              onRetryInitial={() => setAttempt((n) => n + 1)}
              bottomSignal={bottomSignal}
              jumpTarget={jumpTarget}
              onJumped={onJumped}
              report={setNotice}
              onAtBottom={setAtBottom}
            />
          ) : (
            <div className="message-list-wrap">
              <p className="chat-no-history" data-testid="no-history">
                {t('chat.history.noPermission')}
              </p>
            </div>
          )}
          {notice !== null && (
            <div className="chat-notice" role="alert" data-testid="chat-notice">
              <span>{chatErrorText(tr, notice)}</span>
              <button type="button" className="icon-button" onClick={() => setNotice(null)} aria-label={t('common.close')}>
                <CloseIcon size={14} />
              </button>
            </div>
          )}
          <Composer
            inputRef={composerRef}
            disabledReason={disabledReason}
            slowmodeSecs={slowmodeSecs}
            onSend={() => {
              setBottomSignal((n) => n + 1);
              setNewAfter(null);
            }}
          />
          <TypingIndicator serverId={server.id} channelId={channel.id} meId={me.id} />
        </div>
        {pinsOpen && (
          <PinsPanel
            onClose={(refocus) => {
              setPinsOpen(false);
              if (refocus) pinsButton.current?.focus();
            }}
          />
        )}
        {card && (
          <MemberCard key={card.userId} server={server} userId={card.userId} trigger={card.trigger} side="right" onClose={() => setCard(null)} />
        )}
      </div>
      {deleting && (
        <ConfirmDialog
          title={t('chat.delete.title')}
          body={
            <>
              <p>{t('chat.delete.body')}</p>
              <blockquote className="chat-delete-preview">{excerpt(deleting.content, 300)}</blockquote>
            </>
          }
          confirmLabel={t('chat.delete.confirm')}
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await chatActions.remove(deleting);
            setDeleting(null);
            if (replyTo?.id === deleting.id) setReplyTo(null);
            // The message and its button are gone: the focus goes on to the message box.
            setTimeout(focusComposer, 0);
          }}
          testId="delete-message-dialog"
        />
      )}
    </ChatViewContext.Provider>
  );
}

/** "Bob: see you at 10" for each message from another that arrives at the present of the open channel. */
function useNewMessageAnnouncement(server: ServerDetail, history: ChannelMessages, meId: string, loaded: boolean): string {
  const { t } = useTranslation();
  const names = useMentionNames(server.id);
  const [text, setText] = useState('');
  /** The newest message already there (or '0'), from when the history was first shown. */
  const seen = useRef<string | null>(null);
  const newest = history.atPresent ? history.messages[history.messages.length - 1] : undefined;
  useEffect(() => {
    if (!loaded) return;
    const before = seen.current;
    seen.current = newest ? (before !== null && compareIds(before, newest.id) > 0 ? before : newest.id) : (before ?? '0');
    // Not the history shown when the channel opens, nor our own, nor an older one.
    if (!newest || before === null || newest.author.id === meId || compareIds(newest.id, before) <= 0) return;
    const content = plainText(parseMarkdown(newest.content), {
      user: names.nameOf,
      role: (id) => server.roles.find((r) => r.id === id)?.name ?? null,
    });
    setText(t('chat.history.announce', { name: names.nameOf(newest.author.id) ?? displayNameOf(newest.author), text: excerpt(content, 200) }));
  }, [loaded, newest, meId, names, server.roles, t]);
  return text;
}
