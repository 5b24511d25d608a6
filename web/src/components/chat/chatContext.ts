import { createContext, useContext, useEffect } from 'react';
import type { Channel, CurrentUser, Message, PublicUser, ServerDetail } from '../../api/types';
import { chatActions, useChat } from '../../state/chat';
import { memberName } from '../../state/userDirectory';
import { displayNameOf } from '../Avatar';
import { useListedNickname } from '../members/useMembers';

/** What the user may do in the open channel (computed with the channel's overwrites). */
export interface ChatPermissions {
  send: boolean;
  read: boolean;
  react: boolean;
  manage: boolean;
  /** May ping @everyone / @here (offered among the mention suggestions). */
  mentionEveryone: boolean;
  /** May edit own messages (not while timed out). */
  editOwn: boolean;
}

/** Shared by the parts of one channel's chat view. */
export interface ChatView {
  server: ServerDetail;
  channel: Channel;
  me: CurrentUser;
  perms: ChatPermissions;
  replyTo: Message | null;
  setReplyTo(message: Message | null): void;
  editingId: string | null;
  setEditingId(id: string | null): void;
  /** Opens the delete confirmation. */
  requestDelete(message: Message): void;
  /** Shows an error of an action (react, pin, delete…) above the composer. */
  report(error: unknown): void;
  focusComposer(): void;
  /** Scrolls to a loaded message (a reply's original) and highlights it. */
  jumpTo(messageId: string): void;
  /** Opens a member's card next to `trigger` (a message's author name or avatar). */
  openMember(userId: string, trigger: HTMLElement): void;
}

export const ChatViewContext = createContext<ChatView | null>(null);

export function useChatView(): ChatView {
  const value = useContext(ChatViewContext);
  if (!value) throw new Error('useChatView must be used inside <ChatView>');
  return value;
}

/**
 * A user's name in a server for a mention: nickname, display name, username;
 * null while unknown (looked up once), or when nobody was found.
 */
export function useMentionName(serverId: string, userId: string): { name: string | null; missing: boolean } {
  const key = useChat((s) => {
    const r = memberName(s.directory, serverId, userId);
    return r.status === 'known' ? `=${r.name}` : r.status;
  });
  useEffect(() => {
    if (key === 'unknown') void chatActions.lookupMember(serverId, userId);
  }, [key, serverId, userId]);
  if (key.startsWith('=')) return { name: key.slice(1), missing: false };
  return { name: null, missing: key === 'missing' };
}

/**
 * A user as the chat knows them now, if it does: a message keeps its author as they were
 * when it was loaded, and a profile change since (`member.updated`) is in the directory.
 */
export function useDirectoryUser(userId: string): PublicUser | undefined {
  return useChat((s) => s.directory.users[userId]);
}

/**
 * An author's name: their nickname in the server when we know it (from member events and
 * lookups, else from the loaded member list), else their display name as it is now.
 */
export function useAuthorName(serverId: string, author: Pick<PublicUser, 'id' | 'display_name' | 'username'>): string {
  // '' when the directory knows the member without a nickname (a string, so that the
  // snapshot compares equal from one read to the next).
  const known = useChat((s) => {
    const info = s.directory.members[serverId]?.[author.id];
    return info ? (info.nickname ?? '') : null;
  });
  const listed = useListedNickname(serverId, author.id);
  const nickname = known !== null ? known : listed;
  const fresh = useDirectoryUser(author.id);
  return nickname || displayNameOf(fresh ?? author);
}
