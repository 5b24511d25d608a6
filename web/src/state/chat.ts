// The app's one chat store and its actions, what the auth provider plugs into
// it (gateway events, `ready`, resyncs), and the hooks components read it with.

import { useMemo, useSyncExternalStore } from 'react';
import { membersApi, messagesApi, usersApi } from '../api';
import type { Channel, ReadState, ServerDetail } from '../api/types';
import { gateway } from '../gateway';
import { createChatActions } from './chatActions';
import { forgetPlaces } from './places';
import { ChatStore, type ChatContext, type ChatState } from './chatStore';
import { channelMessages, type ChannelMessages } from './messages';
import { channelUnread, serverUnread, type ChannelUnread } from './readStates';

export const chatStore = new ChatStore();

export const chatActions = createChatActions(chatStore, {
  api: messagesApi,
  gateway,
  getMember: (serverId, userId) => membersApi.get(serverId, userId),
  getUser: (userId) => usersApi.get(userId),
});

/** Channels whose mention count is asked again of the server, once a burst of changes is over. */
const staleMentions = new Set<string>();
let mentionsTimer: ReturnType<typeof setTimeout> | null = null;
const MENTIONS_REFRESH_MS = 500;

function refreshMentionsSoon(channelId: string): void {
  staleMentions.add(channelId);
  if (mentionsTimer !== null) return;
  mentionsTimer = setTimeout(() => {
    mentionsTimer = null;
    const channels = [...staleMentions];
    staleMentions.clear();
    chatActions.refreshMentionCounts(channels).catch((err: unknown) => console.warn('papo: could not count mentions', err));
  }, MENTIONS_REFRESH_MS);
}

/** The auth provider's side: session, `ready`, events, resyncs. */
export const chat = {
  /** While logged in; the returned function forgets everything (logout, another user). */
  attach(context: () => ChatContext): () => void {
    const detach = chatStore.attach(context);
    return () => {
      detach();
      chatActions.forgetLookups();
      forgetPlaces();
      // A count asked for the user now gone would be asked without a session.
      staleMentions.clear();
      if (mentionsTimer !== null) clearTimeout(mentionsTimer);
      mentionsTimer = null;
    };
  },
  /** `ready.read_states` (a server that does not send them: loaded over REST). */
  ready(readStates: ReadState[] | undefined): void {
    if (readStates) {
      chatStore.ready(readStates);
      return;
    }
    chatStore.dispatch({ type: 'typing.reset' });
    chatActions.loadReadStates().catch((err: unknown) => console.warn('papo: could not load read states', err));
  },
  handleEvent(t: string, d: unknown): void {
    chatStore.handleEvent(t, d);
    const stale = chatStore.mentionCountStale(t, d);
    if (stale !== null) refreshMentionsSoon(stale);
  },
  /** The gateway is connected (again): messages that could not reach the server go now. */
  connected(): void {
    chatActions.resendUnreached().catch((err: unknown) => console.warn('papo: resend failed', err));
  },
  /** A new gateway session replaced a lost one: reload the open channel. */
  resync(): void {
    chatActions.resync();
  },
};

/** A slice of the chat state; `selector` must return stored values (or primitives), not new objects. */
export function useChat<T>(selector: (state: ChatState) => T): T {
  return useSyncExternalStore(chatStore.subscribe, () => selector(chatStore.getState()));
}

/** The loaded window of a channel (an empty one before the first load). */
export function useChannelMessages(channelId: string): ChannelMessages {
  const window = useChat((s) => s.messages[channelId]);
  return useMemo(() => window ?? channelMessages({}, channelId), [window, channelId]);
}

export function useChannelUnread(channel: Pick<Channel, 'id' | 'kind' | 'last_message_id'>): ChannelUnread {
  const readStates = useChat((s) => s.readStates);
  const { id, kind, last_message_id } = channel;
  return useMemo(() => channelUnread(readStates, { id, kind, last_message_id }), [readStates, id, kind, last_message_id]);
}

export function useServerUnread(server: Pick<ServerDetail, 'channels'>): ChannelUnread {
  const readStates = useChat((s) => s.readStates);
  const channels = server.channels;
  return useMemo(() => serverUnread(readStates, { channels }), [readStates, channels]);
}
