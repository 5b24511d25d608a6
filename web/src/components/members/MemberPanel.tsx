import { memo, useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { isTimedOut, memberColor } from '../../api/hierarchy';
import type { Member, Role, ServerDetail } from '../../api/types';
import { activeCustomStatus, expiryOf } from '../../gateway/presence';
import type { ObservedStatus, Presence } from '../../gateway/protocol';
import { useServer } from '../../state/context';
import {
  groupMembers,
  memberDisplayName,
  observedStatus,
  withListedPresences,
  type MemberGroup,
} from '../../state/members';
import { Avatar, roleTextStyle } from '../Avatar';
import { ClockIcon, CrownIcon } from '../communityIcons';
import { useRedrawAt } from '../chat/useNow';
import { CloseIcon } from '../icons';
import { MemberCard, usePresences } from './MemberCard';
import { memberStore, useMemberList } from './useMembers';
import './members.css';

interface MemberPanelProps {
  serverId: string;
  /** Narrow screens: shown as a drawer over the main area. */
  drawer: boolean;
  onClose(): void;
}

interface OpenMember {
  userId: string;
  /** The row that opened the popover (position, and focus on close). */
  trigger: HTMLElement;
}

/** The member list on the right of a server: hoisted roles, Online, Offline. */
export function MemberPanel(props: MemberPanelProps) {
  // Until the server is known (before the gateway's `ready`) there is nothing to load.
  const server = useServer(props.serverId);
  return server ? <MemberPanelBody {...props} server={server} /> : null;
}

function MemberPanelBody({ serverId, drawer, onClose, server }: MemberPanelProps & { server: ServerDetail }) {
  const { t } = useTranslation();
  // Our own presence as our sessions see it, even before the server echoes it.
  const presences = usePresences();
  // As a drawer, it takes the focus (what is behind it is inert), and gives it back to its
  // toggle when it closes.
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!drawer) return;
    closeRef.current?.focus();
    return () => document.querySelector<HTMLElement>('[data-testid="member-list-toggle"]')?.focus();
  }, [drawer]);
  const list = useMemberList(serverId);
  const [open, setOpen] = useState<OpenMember | null>(null);
  const titleId = useId();

  const members = useMemo(() => Object.values(list.members), [list.members]);
  const roles = server.roles;
  const shown = useMemo(() => withListedPresences(presences, members), [presences, members]);
  const groups = useMemo(() => groupMembers(members, roles, shown), [members, roles, shown]);
  // A second click on the same member closes the popover.
  const onOpen = useCallback(
    (userId: string, trigger: HTMLElement) => setOpen((current) => (current?.userId === userId ? null : { userId, trigger })),
    [],
  );
  const ownerLabel = t('members.owner');
  const timedOutLabel = t('members.timedOutShort');
  const labels = useMemo(() => ({ owner: ownerLabel, timedOut: timedOutLabel }), [ownerLabel, timedOutLabel]);

  // Escape closes the drawer (unless a popover or dialog is open: they close first).
  useEffect(() => {
    if (!drawer) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape' || event.defaultPrevented || open) return;
      if (document.querySelector('dialog[open]')) return;
      onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [drawer, onClose, open]);

  const loading = list.status === 'loading' || list.status === 'idle';

  return (
    <>
      {drawer && <div className="member-scrim" aria-hidden="true" onClick={onClose} />}
      <aside
        id="member-list"
        className={drawer ? 'member-panel member-panel-drawer' : 'member-panel'}
        aria-labelledby={titleId}
        aria-busy={loading}
        data-testid="member-list"
      >
        <header className="member-panel-header">
          <h2 id={titleId} className="member-panel-title">
            {list.status === 'ready' ? t('members.titleCount', { total: members.length }) : t('members.title')}
          </h2>
          {drawer && (
            <button ref={closeRef} type="button" className="icon-button" onClick={onClose} aria-label={t('members.hideList')}>
              <CloseIcon size={18} />
            </button>
          )}
        </header>
        <div className="member-panel-scroll">
          {list.status === 'error' && (
            <div className="member-panel-note" role="alert">
              <p>{t('members.loadFailed')}</p>
              <button type="button" className="button button-secondary" onClick={() => memberStore.reload(serverId)}>
                {t('app.retry')}
              </button>
            </div>
          )}
          {loading && members.length === 0 && <p className="member-panel-note">{t('members.loading')}</p>}
          {groups.map((group) => (
            <MemberGroupView
              key={group.key}
              group={group}
              label={groupLabel(group, t)}
              roles={server.roles}
              ownerId={server.owner_id}
              presences={shown}
              openUserId={open?.userId ?? null}
              labels={labels}
              onOpen={onOpen}
            />
          ))}
          {list.status === 'ready' && !list.complete && (
            <p className="member-panel-note">{t('members.truncated', { shown: members.length })}</p>
          )}
        </div>
      </aside>
      {open && (
        <MemberCard key={open.userId} server={server} userId={open.userId} trigger={open.trigger} side="left" onClose={() => setOpen(null)} />
      )}
    </>
  );
}

function groupLabel(group: MemberGroup, t: (key: string) => string): string {
  if (group.kind === 'role' && group.role) return group.role.name;
  return group.kind === 'online' ? t('members.online') : t('members.offline');
}

interface MemberGroupViewProps {
  group: MemberGroup;
  label: string;
  roles: readonly Role[];
  ownerId: string;
  presences: Readonly<Record<string, Presence>>;
  openUserId: string | null;
  labels: RowLabels;
  onOpen(userId: string, trigger: HTMLElement): void;
}

function MemberGroupView({ group, label, roles, ownerId, presences, openUserId, labels, onOpen }: MemberGroupViewProps) {
  const id = useId();
  useRedrawAt(
    group.members.flatMap((member) => [
      member.timeout_until ? Date.parse(member.timeout_until) : null,
      expiryOf(presences[member.user.id]?.custom_status),
    ]),
  );
  const now = Date.now();
  return (
    <section className="member-group" aria-labelledby={id} data-testid="member-group" data-group={group.key}>
      <h3 className="member-group-title" id={id} title={label}>
        {/* A long role name is cut, never the count. */}
        <span className="member-group-name">{label}</span>
        <span className="member-group-count"> — {group.members.length}</span>
      </h3>
      <ul className="member-items">
        {group.members.map((member) => {
          const status = observedStatus(presences, member.user.id);
          const custom = activeCustomStatus(presences[member.user.id]?.custom_status, now);
          return (
            <MemberRow
              key={member.user.id}
              member={member}
              status={status}
              color={memberColor(member.roles, roles)}
              isOwner={member.user.id === ownerId}
              timedOut={isTimedOut(member, now)}
              customStatus={status === 'offline' || !custom ? null : custom.emoji ? `${custom.emoji} ${custom.text}` : custom.text}
              expanded={openUserId === member.user.id}
              labels={labels}
              onOpen={onOpen}
            />
          );
        })}
      </ul>
    </section>
  );
}

interface RowLabels {
  owner: string;
  timedOut: string;
}

interface MemberRowProps {
  member: Member;
  status: ObservedStatus;
  color: number | null;
  isOwner: boolean;
  timedOut: boolean;
  customStatus: string | null;
  expanded: boolean;
  labels: RowLabels;
  onOpen(userId: string, trigger: HTMLElement): void;
}

/** One member: avatar with presence, name in the role colour, custom status. Memoised: lists are long. */
const MemberRow = memo(function MemberRow({
  member,
  status,
  color,
  isOwner,
  timedOut,
  customStatus,
  expanded,
  labels,
  onOpen,
}: MemberRowProps) {
  const name = memberDisplayName(member);

  return (
    <li className={status === 'offline' ? 'member-item member-item-offline' : 'member-item'}>
      <button
        type="button"
        className="member-row"
        aria-haspopup="dialog"
        aria-expanded={expanded}
        onClick={(event) => onOpen(member.user.id, event.currentTarget)}
        data-testid="member"
        data-user-id={member.user.id}
        data-status={status}
      >
        <Avatar user={member.user} size={32} status={status} />
        <span className="member-row-text">
          <span className="member-row-name" style={roleTextStyle(color)}>
            <span className="member-row-name-text" title={name}>
              {name}
            </span>
            {isOwner && (
              <span className="member-row-badge member-row-owner" title={labels.owner} aria-label={labels.owner}>
                <CrownIcon size={14} />
              </span>
            )}
            {timedOut && (
              <span className="member-row-badge" title={labels.timedOut} aria-label={labels.timedOut}>
                <ClockIcon size={14} />
              </span>
            )}
          </span>
          {customStatus && (
            <span className="member-row-status" title={customStatus}>
              {customStatus}
            </span>
          )}
        </span>
      </button>
    </li>
  );
});
