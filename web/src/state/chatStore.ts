// The chat's live state (messages, read states, typing, known users) outside
// React: components subscribe to the slices they show (useSyncExternalStore),
// so a message in one channel does not re-render the whole app. The gateway
// events reach it through handleEvent(); every slice is a pure reducer.

import type { PublicUser, ReadState, ServerDetail } from '../api/types';
import {
  messagesActionForEvent,
  messagesReducer,
  type MessagesAction,
  type MessagesState,
} from './messages';
import {
  EMPTY_READ_STATES,
  mentionsReader,
  readStatesActionForEvent,
  readStatesReducer,
  type ReadStatesAction,
  type ReadStatesState,
} from './readStates';
import { typingActionForEvent, typingReducer, type TypingAction, type TypingState } from './typing';
import {
  EMPTY_DIRECTORY,
  directoryActionForEvent,
  directoryReducer,
  usersOf,
  type DirectoryAction,
  type DirectoryState,
} from './userDirectory';

export interface ChatState {
  messages: MessagesState;
  readStates: ReadStatesState;
  typing: TypingState;
  directory: DirectoryState;
  /** channel id → bumped when its pins change (the pins panel reloads). */
  pinsVersion: Readonly<Record<string, number>>;
}

export const INITIAL_CHAT_STATE: ChatState = {
  messages: {},
  readStates: EMPTY_READ_STATES,
  typing: {},
  directory: EMPTY_DIRECTORY,
  pinsVersion: {},
};

export type ChatAction =
  | MessagesAction
  | ReadStatesAction
  | TypingAction
  | DirectoryAction
  | { type: 'pins.changed'; channelId: string }
  | { type: 'chat.reset' };

/**
 * Whether an event may change what the pins panel shows: a pin or unpin, an edit of a pinned
 * message, or a deletion (the message may have been pinned: the panel, if open, reloads).
 */
function pinsMayHaveChanged(t: string, d: unknown): boolean {
  if (typeof d !== 'object' || d === null) return false;
  switch (t) {
    case 'channel.pins_updated':
    case 'message.deleted':
    case 'message.bulk_deleted':
      return true;
    case 'message.updated':
      return (d as Record<string, unknown>).pinned === true;
    default:
      return false;
  }
}

/** Every slice sees every action; each ignores the ones that are not its own. */
export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  if (action.type === 'chat.reset') return INITIAL_CHAT_STATE;
  if (action.type === 'pins.changed') {
    const version = (state.pinsVersion[action.channelId] ?? 0) + 1;
    return { ...state, pinsVersion: { ...state.pinsVersion, [action.channelId]: version } };
  }
  const messages = messagesReducer(state.messages, action as MessagesAction);
  const readStates = readStatesReducer(state.readStates, action as ReadStatesAction);
  const typing = typingReducer(state.typing, action as TypingAction);
  const directory = directoryReducer(state.directory, action as DirectoryAction);
  if (
    messages === state.messages &&
    readStates === state.readStates &&
    typing === state.typing &&
    directory === state.directory
  ) {
    return state;
  }
  return { ...state, messages, readStates, typing, directory };
}

/** What the chat needs to know about the session (from the auth state). */
export interface ChatContext {
  user: PublicUser | null;
  servers: readonly ServerDetail[];
}

const NO_CONTEXT: ChatContext = { user: null, servers: [] };

export class ChatStore {
  private state: ChatState = INITIAL_CHAT_STATE;
  private readonly listeners = new Set<() => void>();
  private context: () => ChatContext = () => NO_CONTEXT;
  private open: string | null = null;
  private viewing: string | null = null;

  constructor(private readonly now: () => number = () => Date.now()) {}

  readonly getState = (): ChatState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  dispatch(...actions: ChatAction[]): void {
    let next = this.state;
    for (const action of actions) next = chatReducer(next, action);
    if (next === this.state) return;
    this.state = next;
    for (const listener of [...this.listeners]) listener();
  }

  /** Plugs in the session (the auth provider); the returned function forgets everything. */
  attach(context: () => ChatContext): () => void {
    this.context = context;
    return () => {
      if (this.context !== context) return;
      this.context = () => NO_CONTEXT;
      this.open = null;
      this.viewing = null;
      this.dispatch({ type: 'chat.reset' });
    };
  }

  me(): PublicUser | null {
    return this.context().user;
  }

  /** My role ids in a server: a member.updated about me is fresher than the server's `me`. */
  rolesIn(serverId: string): string[] {
    const me = this.me();
    if (!me) return [];
    const known = this.state.directory.members[serverId]?.[me.id];
    if (known) return known.roles;
    return this.context().servers.find((s) => s.id === serverId)?.me.roles ?? [];
  }

  /** The channel on screen (null = none): kept across a resync. */
  setOpenChannel(channelId: string | null): void {
    this.open = channelId;
  }

  openChannel(): string | null {
    return this.open;
  }

  /** The channel whose newest messages the user is looking at (visible, at the present). */
  setViewing(channelId: string | null): void {
    this.viewing = channelId;
  }

  /** A new gateway session: its read states replace ours; nobody is typing any more. */
  ready(readStates: ReadState[]): void {
    this.dispatch({ type: 'readStates.loaded', readStates }, { type: 'typing.reset' });
  }

  /**
   * The channel whose mention count an event may have changed in a way only the server can
   * count: a deletion where mentions are counted (the message may have been one, and is
   * seldom loaded here), or an edit by someone else that mentions the user now. Null
   * otherwise.
   */
  mentionCountStale(t: string, d: unknown): string | null {
    if (typeof d !== 'object' || d === null) return null;
    const channelId = (d as Record<string, unknown>).channel_id;
    if (typeof channelId !== 'string') return null;
    if (t === 'message.deleted' || t === 'message.bulk_deleted') {
      return (this.state.readStates.byChannel[channelId]?.mention_count ?? 0) > 0 ? channelId : null;
    }
    const me = this.me();
    if (t !== 'message.updated' || !me) return null;
    const action = messagesActionForEvent(t, d, me.id);
    if (action?.type !== 'message.updated' || action.message.author.id === me.id) return null;
    const reader = { userId: me.id, roleIds: this.rolesIn(action.message.server_id) };
    return mentionsReader(action.message, reader) ? channelId : null;
  }

  /** One gateway event (anything it does not know is ignored). */
  handleEvent(t: string, d: unknown): void {
    const me = this.me();
    const meId = me?.id ?? null;
    const actions: ChatAction[] = [];
    const messageAction = messagesActionForEvent(t, d, meId);
    if (messageAction) {
      actions.push(messageAction);
      if (messageAction.type === 'message.created' || messageAction.type === 'message.updated') {
        actions.push({ type: 'directory.users', users: usersOf([messageAction.message]) });
      }
      if (messageAction.type === 'message.created') {
        const message = messageAction.message;
        actions.push(
          {
            type: 'readState.message',
            message,
            reader: meId ? { userId: meId, roleIds: this.rolesIn(message.server_id) } : null,
            viewing: this.viewing === message.channel_id,
          },
          { type: 'typing.stopped', channelId: message.channel_id, userId: message.author.id },
        );
      }
    }
    const readAction = readStatesActionForEvent(t, d);
    if (readAction) actions.push(readAction);
    const typingAction = typingActionForEvent(t, d, meId, this.now());
    // Expired entries go when new ones come (the indicator hides them by time anyway).
    if (typingAction) actions.push({ type: 'typing.pruned', now: this.now() }, typingAction);
    const directoryAction = directoryActionForEvent(t, d);
    if (directoryAction) actions.push(directoryAction);
    if (pinsMayHaveChanged(t, d)) {
      const channelId = (d as Record<string, unknown>).channel_id;
      if (typeof channelId === 'string') actions.push({ type: 'pins.changed', channelId });
    }
    if (actions.length > 0) this.dispatch(...actions);
  }
}
