import { useMemo, useState } from 'react';
import { actorOf } from '../../api/hierarchy';
import type { Presence } from '../../gateway/protocol';
import type { ServerDetail } from '../../api/types';
import { useAuth, useCurrentUser, useOwnPresence } from '../../state/context';
import { observedStatus, withListedPresences } from '../../state/members';
import { MemberActionDialog, type MemberDialogKind } from './MemberDialogs';
import { MemberPopover } from './MemberPopover';
import { useMemberList } from './useMembers';

/** The presences the gateway pushed, with our own as our sessions see it (before the echo). */
export function usePresences(): Readonly<Record<string, Presence>> {
  const me = useCurrentUser();
  const { presences: known } = useAuth();
  const own = useOwnPresence();
  return useMemo(
    () =>
      known[me.id]
        ? known
        : { ...known, [me.id]: { user_id: me.id, status: own.status, custom_status: own.custom } },
    [known, me.id, own.status, own.custom],
  );
}

interface MemberCardProps {
  server: ServerDetail;
  userId: string;
  /** What opened it (position, and focus on close). */
  trigger: HTMLElement;
  side: 'left' | 'right';
  onClose(): void;
}

/**
 * A member's card (profile, roles, the moderation actions we may take) and the dialog of the
 * action chosen in it: from the member list or a message's author.
 */
export function MemberCard({ server, userId, trigger, side, onClose }: MemberCardProps) {
  const me = useCurrentUser();
  const list = useMemberList(server.id);
  const presences = usePresences();
  const [dialog, setDialog] = useState<MemberDialogKind | null>(null);
  const member = list.members[userId];
  if (!member) return null;
  if (dialog) return <MemberActionDialog kind={dialog} server={server} member={member} onClose={onClose} />;
  const shown = withListedPresences(presences, [member]);
  return (
    <MemberPopover
      server={server}
      member={member}
      actor={actorOf(server, me.id)}
      status={observedStatus(shown, userId)}
      presence={shown[userId]}
      anchor={trigger}
      side={side}
      onClose={(focusTrigger) => {
        if (focusTrigger && trigger.isConnected) trigger.focus();
        onClose();
      }}
      onAction={setDialog}
    />
  );
}
