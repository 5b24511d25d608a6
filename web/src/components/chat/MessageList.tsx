import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type FocusEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Channel } from '../../api/types';
import { chatActions } from '../../state/chat';
import { arrivedSince, displayItems, newestMessageId, type ChannelMessages, type NewMark } from '../../state/messages';
import { leavePlace, placeOf, type Place } from '../../state/places';
import { HashIcon } from '../icons';
import { useTranslator } from '../useFormErrors';
import { useChatView } from './chatContext';
import { chatErrorText } from './chatErrors';
import { ArrowDownIcon } from './chatIcons';
import { messageTime } from './format';
import { MessageRow } from './Message';

/** Load more when the user scrolls this close to an end of the loaded window (px). */
const LOAD_MARGIN_PX = 400;
/** Closer than this to the bottom counts as "at the bottom": new messages keep it there. */
const STICK_MARGIN_PX = 48;

interface MessageListProps {
  channel: Channel;
  history: ChannelMessages;
  /** Where the "new messages" divider goes. */
  newMark: NewMark;
  /** "Mark as read" on the new-messages bar: the divider goes. */
  onMarkRead(): void;
  /** The first page is loading, or failed. */
  initial: 'loading' | 'ready' | { error: unknown };
  onRetryInitial(): void;
  /** Bumped to scroll to the bottom (we just sent a message). */
  bottomSignal: number;
  /** A message to scroll to and highlight (a reply's original, a pin); cleared through onJumped. */
  jumpTarget: string | null;
  onJumped(): void;
  report(error: unknown): void;
  /** Whether the bottom of the list is in view (scrolled up: new messages stay unread). */
  onAtBottom(atBottom: boolean): void;
}

type Anchor = Place;

/** The time of the first new message, as the bar says it ("14:03"; with the day if not today). */
function sinceTime(iso: string, locale: string): string {
  const time = messageTime(iso, locale, new Date());
  if (!time) return '';
  return time.kind === 'today' ? time.time : `${time.date} ${time.time}`;
}

/** The first item whose bottom is below the scroller's top edge, and where it is. */

function topVisible(scroller: HTMLElement): Anchor | null {
  const top = scroller.getBoundingClientRect().top;
  for (const node of scroller.querySelectorAll<HTMLElement>('[data-key]')) {
    const rect = node.getBoundingClientRect();
    if (rect.bottom > top) return { key: node.dataset.key ?? '', top: rect.top - top };
  }
  return null;
}

/**
 * The history of a channel: scroll up to load older messages, down to load
 * newer ones when the window is not at the present; new messages keep the view
 * at the bottom only when it was there; "jump to present" otherwise.
 */
export function MessageList({
  channel,
  history,
  newMark,
  onMarkRead,
  initial,
  onRetryInitial,
  bottomSignal,
  jumpTarget,
  onJumped,
  report,
  onAtBottom,
}: MessageListProps) {
  const { t, i18n } = useTranslation();
  const tr = useTranslator();
  const view = useChatView();
  const items = useMemo(() => displayItems(history, newMark), [history, newMark]);
  // One tab stop for the whole list (the arrows walk it): the message last focused while it
  // is loaded, else the newest.
  const [focusedKey, setFocusedKey] = useState<string | null>(null);
  const tabStop = useMemo(() => {
    const rows = items.filter((i) => i.kind === 'message' || i.kind === 'pending');
    return rows.find((i) => i.key === focusedKey)?.key ?? rows[rows.length - 1]?.key ?? null;
  }, [items, focusedKey]);
  // The new messages below the divider, and whether the divider is scrolled out of view
  // above (then a bar at the top says how many, since when, and jumps there).
  const newSince = useMemo(() => {
    const at = items.findIndex((i) => i.kind === 'new');
    if (at < 0) return null;
    const rows = items.slice(at + 1).filter((i) => i.kind === 'message');
    const first = rows[0];
    return first && first.kind === 'message' ? { count: rows.length, at: first.message.created_at } : null;
  }, [items]);
  const [dividerAbove, setDividerAbove] = useState(false);
  const checkDivider = useCallback(() => {
    const el = scrollerRef.current;
    const divider = el?.querySelector('[data-testid="new-divider"]');
    setDividerAbove(!!el && !!divider && divider.getBoundingClientRect().bottom < el.getBoundingClientRect().top);
  }, []);
  // Only a message itself becomes the tab stop, not a control inside one (a reaction, a
  // link): else Tab forward from such a control left the tab stop behind it, never reached.
  const onItemFocus = useCallback((event: FocusEvent<HTMLOListElement>) => {
    const row = event.target;
    if (row instanceof HTMLElement && row.dataset.testid === 'message' && row.dataset.key) setFocusedKey(row.dataset.key);
  }, []);
  const scrollerRef = useRef<HTMLDivElement>(null);
  const itemsRef = useRef<HTMLOListElement>(null);
  /** Where the user left this channel last time, if scrolled up (read once, as it mounts). */
  const [returnTo] = useState(() => placeOf(channel.id));
  /** Follow new messages (the view is at the bottom of the present). */
  const stick = useRef(returnTo === null);
  /** Where the user was reading, to keep it in place when messages come or go above it. */
  const anchor = useRef<Anchor | null>(returnTo);
  /** Coming back to `returnTo`, until the list first shows messages. */
  const restoring = useRef(returnTo !== null);
  // Leaving: the place is remembered (the refs' last values: the list is gone by then).
  useEffect(
    () => () => {
      leavePlace(channel.id, stick.current ? null : anchor.current);
    },
    [channel.id],
  );
  const historyRef = useRef(history);
  historyRef.current = history;
  const [away, setAway] = useState(false);
  /** The newest message when the user scrolled up from the bottom of the present (null: at
   * the bottom): what comes after it, they have not seen. */
  const [leftAfter, setLeftAfter] = useState<string | null>(null);
  const arrived = useMemo(() => arrivedSince(history, leftAfter, newMark.meId), [history, leftAfter, newMark.meId]);
  const [older, setOlder] = useState<'idle' | 'loading' | { error: unknown }>('idle');
  const [newer, setNewer] = useState<'idle' | 'loading'>('idle');

  const loadOlder = useCallback(() => {
    setOlder('loading');
    chatActions.loadOlder(channel.id).then(
      () => setOlder('idle'),
      (error: unknown) => setOlder({ error }),
    );
  }, [channel.id]);

  const loadNewer = useCallback(() => {
    setNewer('loading');
    chatActions
      .loadNewer(channel.id)
      .catch(report)
      .finally(() => setNewer('idle'));
  }, [channel.id, report]);

  /** The list's height at the last scroll: a scroll while it changes is the resize's. */
  const seenHeight = useRef(0);

  /** After a scroll: follow or not, anchor, and whether to load more. */
  const onScroll = useCallback(() => {
    const el = scrollerRef.current;
    if (!el) return;
    const resized = seenHeight.current !== 0 && seenHeight.current !== el.clientHeight;
    seenHeight.current = el.clientHeight;
    if (resized && stick.current) {
      // The view shrank (a phone's keyboard opening) and the browser moved it to keep some
      // element in place: the user did not scroll away from the bottom, so stay there.
      el.scrollTop = el.scrollHeight;
      return;
    }
    const h = historyRef.current;
    const fromBottom = el.scrollHeight - el.scrollTop - el.clientHeight;
    stick.current = h.atPresent && fromBottom < STICK_MARGIN_PX;
    onAtBottom(fromBottom < STICK_MARGIN_PX);
    const newest = fromBottom < STICK_MARGIN_PX ? null : newestMessageId(h);
    setLeftAfter((left) => (newest === null ? null : (left ?? newest)));
    anchor.current = topVisible(el);
    setAway(fromBottom > el.clientHeight);
    checkDivider();
    if (el.scrollTop < LOAD_MARGIN_PX && h.hasMoreBefore && h.messages.length > 0 && older === 'idle') loadOlder();
    if (!h.atPresent && fromBottom < LOAD_MARGIN_PX && newer === 'idle') loadNewer();
  }, [older, newer, loadOlder, loadNewer, checkDivider, onAtBottom]);

  const atBeginning = initial === 'ready' && !history.hasMoreBefore;

  // After every change of the list (the channel's welcome appearing above it too, once the
  // first page shows there is nothing older): keep the bottom, or keep what the user was
  // reading in place.
  useLayoutEffect(() => {
    const el = scrollerRef.current;
    if (!el) return;
    if (stick.current) {
      el.scrollTop = el.scrollHeight;
    } else if (anchor.current) {
      const key = anchor.current.key;
      const node = Array.from(el.querySelectorAll<HTMLElement>('[data-key]')).find((n) => n.dataset.key === key);
      if (node) {
        el.scrollTop += node.getBoundingClientRect().top - el.getBoundingClientRect().top - anchor.current.top;
      } else if (restoring.current && items.length > 0) {
        // The place left is no longer loaded: the newest messages, as for a first visit.
        stick.current = true;
        el.scrollTop = el.scrollHeight;
      }
    }
    if (restoring.current && items.length > 0) {
      // Back at the place left: what a scroll there would have said (the view may not have
      // moved, so no scroll event says it).
      restoring.current = false;
      const fromBottom = el.scrollHeight - el.scrollTop - el.clientHeight;
      setAway(fromBottom > el.clientHeight);
      onAtBottom(fromBottom < STICK_MARGIN_PX);
      setLeftAfter(fromBottom < STICK_MARGIN_PX ? null : newestMessageId(historyRef.current));
    }
    anchor.current = topVisible(el);
    checkDivider();
    // A short history does not fill the view: there is nothing to scroll, so load on.
    if (el.scrollHeight <= el.clientHeight + LOAD_MARGIN_PX && history.hasMoreBefore && history.messages.length > 0 && older === 'idle') {
      loadOlder();
    }
  }, [items, atBeginning, history.hasMoreBefore, history.messages.length, older, loadOlder, checkDivider, onAtBottom]);

  // The viewport changed size (phone keyboard, window resize), or the messages did after
  // they were drawn (a font or an emoji loading late, a long message wrapping): stay at the
  // bottom if there. Without watching the messages too, a channel could open short of them.
  useEffect(() => {
    const el = scrollerRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (stick.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    if (itemsRef.current) observer.observe(itemsRef.current);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (bottomSignal === 0) return;
    stick.current = true;
    const el = scrollerRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [bottomSignal]);

  useLayoutEffect(() => {
    if (!jumpTarget) return;
    const el = scrollerRef.current;
    const node = el ? Array.from(el.querySelectorAll<HTMLElement>('[data-message-id]')).find((n) => n.dataset.messageId === jumpTarget) : null;
    if (!node) return;
    stick.current = false;
    node.scrollIntoView({ block: 'center' });
    node.focus({ preventScroll: true });
    node.classList.add('message-highlight');
    const timer = setTimeout(() => node.classList.remove('message-highlight'), 2000);
    onJumped();
    return () => clearTimeout(timer);
  }, [jumpTarget, items, onJumped]);

  const jumpToPresent = () => {
    stick.current = true;
    const el = scrollerRef.current;
    // The button goes: the focus moves on to the message box rather than to the page.
    view.focusComposer();
    if (history.atPresent) {
      if (el) el.scrollTop = el.scrollHeight;
      setAway(false);
    } else {
      chatActions.loadLatest(channel.id).catch(report);
    }
  };

  const jumpToNew = () => {
    stick.current = false;
    scrollerRef.current?.querySelector('[data-testid="new-divider"]')?.scrollIntoView({ block: 'start' });
  };

  return (
    <div className="message-list-wrap">
      {newSince && dividerAbove && (
        <div className="new-messages-bar" data-testid="new-messages-bar">
          <button type="button" className="new-messages-jump" onClick={jumpToNew}>
            {t('chat.history.newSince', { count: newSince.count, time: sinceTime(newSince.at, i18n.language) })}
          </button>
          <button type="button" className="new-messages-read" onClick={onMarkRead} data-testid="mark-read">
            {t('chat.history.markRead')}
          </button>
        </div>
      )}
      <div
        ref={scrollerRef}
        className="message-list"
        onScroll={onScroll}
        data-testid="message-list"
        aria-busy={initial === 'loading' || older === 'loading' || newer === 'loading'}
      >
        {atBeginning && (
          <section className="channel-welcome chat-welcome" data-testid="channel-welcome" aria-labelledby="chat-welcome-title">
            <span className="channel-welcome-icon">
              <HashIcon size={40} />
            </span>
            <h2 id="chat-welcome-title">{t('channels.welcome.title', { name: channel.name })}</h2>
            <p>{t('channels.welcome.body', { name: channel.name })}</p>
            {/* Whole here: the header cuts it, and hides it on a phone. */}
            {channel.topic && (
              <p className="channel-welcome-topic" data-testid="channel-welcome-topic">
                {channel.topic}
              </p>
            )}
          </section>
        )}
        {history.hasMoreBefore && history.messages.length > 0 && (
          <div className="message-list-edge">
            {typeof older === 'object' ? (
              <p role="alert">
                {t('chat.history.olderFailed', { reason: chatErrorText(tr, older.error) })}{' '}
                <button type="button" className="chat-link-button" onClick={loadOlder}>
                  {t('chat.history.retry')}
                </button>
              </p>
            ) : (
              <p className="message-list-loading">{t('chat.history.loadingOlder')}</p>
            )}
          </div>
        )}
        {initial === 'loading' && items.length === 0 && <p className="message-list-loading">{t('chat.history.loading')}</p>}
        {typeof initial === 'object' && (
          <div className="message-list-edge" role="alert">
            <p>{t('chat.history.failed', { reason: chatErrorText(tr, initial.error) })}</p>
            <button type="button" className="button button-secondary" onClick={onRetryInitial}>
              {t('chat.history.retry')}
            </button>
          </div>
        )}
        <ol ref={itemsRef} className="message-items" aria-label={t('chat.history.label', { name: channel.name })} onFocus={onItemFocus}>
          {items.map((item) => (
            <MessageRow key={item.key} item={item} tabbable={item.key === tabStop} />
          ))}
        </ol>
        {!history.atPresent && history.messages.length > 0 && <p className="message-list-loading">{t('chat.history.loadingNewer')}</p>}
      </div>
      {(away || !history.atPresent || arrived > 0) && items.length > 0 && (
        <button type="button" className="jump-to-present" onClick={jumpToPresent} data-testid="jump-to-present">
          {!history.atPresent
            ? t('chat.history.viewingOlder')
            : arrived > 0
              ? t('chat.history.arrivedBelow', { count: arrived })
              : t('chat.history.jumpToPresent')}
          <ArrowDownIcon size={16} />
        </button>
      )}
    </div>
  );
}
