import { useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import type { Member, Role } from '../../api/types';
import { Avatar, accentToCss } from '../Avatar';
import { memberDisplayName } from '../../state/members';
import { useMemberList } from '../members/useMembers';
import { useChatView } from './chatContext';
import { applyMention, channelViewers, mentionableRoles, mentionOptions, mentionQuery, type MentionOption } from './mentionComplete';

/** [`MentionRoles`] of the open channel. */
export function useMentionRoles(): MentionRoles {
  const view = useChatView();
  return useMemo(() => {
    const roles = mentionableRoles(view.server.roles, view.server.id, view.perms.mentionEveryone);
    return { roles, roleNameOf: (id) => roles.find((r) => r.id === id)?.name ?? null };
  }, [view.server.roles, view.server.id, view.perms.mentionEveryone]);
}

/** A server's members by username and by id, for turning `@username` into `<@id>` and back. */
export interface MentionNames {
  members: readonly Member[];
  idOf(username: string): string | null;
  usernameOf(id: string): string | null;
  /** The member's name as shown (nickname, display name, username). */
  nameOf(id: string): string | null;
}

/** The open channel's roles the user may mention, and a role's name by id (for editing). */
export interface MentionRoles {
  roles: readonly Role[];
  roleNameOf(id: string): string | null;
}

/** [`MentionNames`] of a server. */
export function useMentionNames(serverId: string): MentionNames {
  const list = useMemberList(serverId);
  return useMemo(() => {
    const members = Object.values(list.members);
    const byName = new Map(members.map((m) => [m.user.username.toLowerCase(), m.user.id]));
    return {
      members,
      idOf: (username) => byName.get(username) ?? null,
      usernameOf: (id) => list.members[id]?.user.username ?? null,
      nameOf: (id) => {
        const member = list.members[id];
        return member ? memberDisplayName(member) : null;
      },
    };
  }, [list.members]);
}

export interface Mentions {
  /** The suggestions shown now (none: closed). */
  options: readonly MentionOption[];
  active: number;
  listId: string;
  /** Handles the suggestions' keys (arrows, Enter, Tab, Escape); true if it did. */
  onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): boolean;
  choose(option: MentionOption): void;
  /** The pointer is over suggestion `index`: it becomes the one Enter picks. */
  hover(index: number): void;
}

/**
 * Suggestions for the `@name` being typed at `caret` in `text`; choosing one puts
 * `@username ` in its place (`apply` gets the new text and caret).
 */
export function useMentions(input: {
  text: string;
  caret: number;
  members: readonly Member[];
  /** The roles the user may mention. */
  roles: readonly Role[];
  everyone: boolean;
  meId: string;
  /** The box has the focus (the suggestions close when it goes). */
  focused: boolean;
  apply(text: string, caret: number): void;
}): Mentions {
  const { text, caret, members, roles, everyone, meId, focused, apply } = input;
  const listId = useId();
  const [index, setIndex] = useState(0);
  // Escape closes the suggestions of this `@` until another is typed.
  const [dismissed, setDismissed] = useState<number | null>(null);
  const query = mentionQuery(text, caret);
  const options = useMemo(
    () =>
      focused && query && query.start !== dismissed ? mentionOptions(members, query.query, { everyone, meId, roles }) : [],
    [focused, query?.start, query?.query, dismissed, members, roles, everyone, meId],
  );
  useEffect(() => setIndex(0), [query?.start, query?.query]);
  // Dismissed only while that `@` is being typed: a new one (or the same place again) asks anew.
  useEffect(() => {
    if (dismissed !== null && query?.start !== dismissed) setDismissed(null);
  }, [dismissed, query?.start]);
  const active = Math.min(index, Math.max(0, options.length - 1));

  const choose = useCallback(
    (option: MentionOption) => {
      if (!query) return;
      const next = applyMention(text, query.start, caret, option.insert);
      apply(next.text, next.caret);
    },
    [query, text, caret, apply],
  );

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): boolean => {
    if (options.length === 0 || event.nativeEvent.isComposing) return false;
    const n = options.length;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      setIndex((active + (event.key === 'ArrowDown' ? 1 : n - 1)) % n);
    } else if ((event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey) {
      choose(options[active] as MentionOption);
    } else if (event.key === 'Escape') {
      setDismissed(query?.start ?? null);
    } else {
      return false;
    }
    event.preventDefault();
    event.stopPropagation();
    return true;
  };

  return { options, active, listId, onKeyDown, choose, hover: setIndex };
}

/**
 * A message box of the open channel (the composer, the editor): its text (at first
 * `initial(names, roles)`, or empty), the names and roles that turn `@name` into ids, and the
 * suggestions for the `@` being typed at the caret (members who can view the channel, roles
 * the user may mention). A chosen suggestion goes into the text, the caret after it.
 */
export function useBoxMentions(
  inputRef: RefObject<HTMLTextAreaElement | null>,
  initial?: (names: MentionNames, roles: MentionRoles) => string,
) {
  const view = useChatView();
  const names = useMentionNames(view.server.id);
  const roles = useMentionRoles();
  const [text, setText] = useState(() => (initial ? initial(names, roles) : ''));
  const viewers = useMemo(
    () => channelViewers(names.members, view.server, view.channel.overwrites),
    [names.members, view.server, view.channel.overwrites],
  );
  const [caret, setCaret] = useState(0);
  const [focused, setFocused] = useState(false);
  // Where to put the caret after a suggestion replaced the text (once it is drawn).
  const placeCaret = useRef<number | null>(null);
  const apply = useCallback(
    (next: string, at: number) => {
      setText(next);
      setCaret(at);
      placeCaret.current = at;
    },
    [],
  );
  const mentions = useMentions({ text, caret, members: viewers, roles: roles.roles, everyone: view.perms.mentionEveryone, meId: view.me.id, focused, apply });
  useLayoutEffect(() => {
    const at = placeCaret.current;
    if (at === null) return;
    placeCaret.current = null;
    inputRef.current?.setSelectionRange(at, at);
  });
  const open = mentions.options.length > 0;
  /** The box's attributes and handlers for the suggestions (besides its own onChange and onKeyDown). */
  const boxProps = {
    onSelect: (event: { currentTarget: HTMLTextAreaElement }) => setCaret(event.currentTarget.selectionStart),
    onFocus: () => setFocused(true),
    onBlur: () => setFocused(false),
    // A box that suggests: a combobox, so that its open state and suggestions are read.
    role: 'combobox' as const,
    'aria-autocomplete': 'list' as const,
    'aria-expanded': open,
    'aria-controls': open ? mentions.listId : undefined,
    'aria-activedescendant': open ? `${mentions.listId}-${mentions.active}` : undefined,
  };
  return { text, setText, names, roles, mentions, boxProps, setCaret };
}

/** The suggestions above the message box: a listbox the box points at (aria-activedescendant). */
export function MentionSuggestions({ mentions }: { mentions: Mentions }) {
  const { t } = useTranslation();
  if (mentions.options.length === 0) return null;
  return (
    <ul className="mention-suggestions" role="listbox" id={mentions.listId} aria-label={t('chat.mention.suggestions')} data-testid="mention-suggestions">
      {mentions.options.map((option, i) => (
        <li
          key={option.key}
          id={`${mentions.listId}-${i}`}
          role="option"
          aria-selected={i === mentions.active}
          className={i === mentions.active ? 'mention-option mention-option-active' : 'mention-option'}
          onMouseEnter={() => mentions.hover(i)}
          // Chosen on mousedown, before the box loses its focus.
          onMouseDown={(event) => {
            event.preventDefault();
            mentions.choose(option);
          }}
          data-testid="mention-option"
        >
          {option.member ? (
            <Avatar user={option.member.user} size={24} />
          ) : (
            <span className="mention-option-at" aria-hidden="true" style={option.role ? { color: accentToCss(option.role.color) } : undefined}>
              @
            </span>
          )}
          <span className="mention-option-label">{option.label}</span>
          {option.username && <span className="mention-option-username">{option.username}</span>}
        </li>
      ))}
    </ul>
  );
}
