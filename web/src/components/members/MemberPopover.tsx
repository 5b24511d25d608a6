import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { membersApi } from '../../api';
import {
  assignableRoles,
  isEveryoneRole,
  isTimedOut,
  memberActions,
  memberRoles,
  sortRolesDesc,
  targetOf,
  type Actor,
} from '../../api/hierarchy';
import type { Member, ServerDetail } from '../../api/types';
import { activeCustomStatus } from '../../gateway/presence';
import type { ObservedStatus, Presence } from '../../gateway/protocol';
import { useAuthActions } from '../../state/context';
import { memberDisplayName } from '../../state/members';
import { Avatar, accentToCss } from '../Avatar';
import { Markdown } from '../chat/Markdown';
import { FormAlert } from '../FormAlert';
import { useFormErrors } from '../useFormErrors';
import type { MemberDialogKind } from './MemberDialogs';
import { memberStore } from './useMembers';
import './members.css';

interface MemberPopoverProps {
  server: ServerDetail;
  member: Member;
  actor: Actor;
  status: ObservedStatus;
  presence: Presence | undefined;
  /** The row it belongs to. */
  anchor: HTMLElement;
  /** Which side of the anchor it opens on (the member list's rows: left; a message's author: right). */
  side?: 'left' | 'right';
  /** focusTrigger: give the focus back to the row (Escape, close button). */
  onClose(focusTrigger: boolean): void;
  onAction(kind: MemberDialogKind): void;
}

const NO_FIELDS: readonly string[] = [];
const GAP = 8;
/** The popover's width (members.css `.member-popover`). */
const POPOVER_WIDTH = 300;

/** Beside the anchor, top-aligned with it, kept inside the viewport once the height is known. */
function positionFor(anchor: HTMLElement, height: number, side: 'left' | 'right'): { top: number; right: number } {
  const rect = anchor.getBoundingClientRect();
  return {
    top: Math.max(GAP, Math.min(rect.top, window.innerHeight - height - GAP)),
    // `right` for both: on the right side, the popover's width is not known before it is drawn.
    right:
      side === 'left'
        ? Math.max(GAP, window.innerWidth - rect.left + GAP)
        : Math.max(GAP, window.innerWidth - rect.right - GAP - POPOVER_WIDTH),
  };
}

/** Profile basics of a member, their roles, and the moderation actions the user may take. */
export function MemberPopover({ server, member, actor, status, presence, anchor, side = 'left', onClose, onAction }: MemberPopoverProps) {
  const { t, i18n } = useTranslation();
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const [position, setPosition] = useState(() => positionFor(anchor, 0, side));
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  // Next to the row, kept inside the viewport (now that the height is known).
  useLayoutEffect(() => {
    const next = positionFor(anchor, ref.current?.offsetHeight ?? 0, side);
    setPosition((current) => (current.top === next.top && current.right === next.right ? current : next));
  }, [anchor, member, side]);

  useEffect(() => {
    ref.current?.focus();
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Node | null;
      if (!target || ref.current?.contains(target) || anchor.contains(target)) return;
      // A click in a modal dialog opened from here is not "outside".
      if (target instanceof Element && target.closest('dialog')) return;
      onCloseRef.current(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [anchor]);

  const target = targetOf(server, member);
  const assignable = assignableRoles(actor, server.roles);
  const actions = memberActions(actor, target, assignable.length);
  const name = memberDisplayName(member);
  const custom = status === 'offline' ? null : activeCustomStatus(presence?.custom_status, Date.now());
  const timedOut = isTimedOut(member, Date.now());
  const dateFormat = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium' });
  const dateTimeFormat = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' });
  const formatDate = (value: string) => {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? dateFormat.format(ms) : null;
  };
  const joined = formatDate(member.joined_at);
  const registered = formatDate(member.user.created_at);
  const banner = accentToCss(member.user.accent_color);
  const anyAction = actions.nickname || actions.timeout || actions.kick || actions.ban || actions.transfer;

  return (
    <div
      ref={ref}
      className="member-popover"
      role="dialog"
      aria-labelledby={titleId}
      tabIndex={-1}
      style={{ top: position.top, right: position.right }}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          event.stopPropagation();
          onClose(true);
        }
      }}
      // Tab past its last control closes it, as a click outside does (it stayed open over
      // the page while the focus went on elsewhere).
      onBlur={(event) => {
        const next = event.relatedTarget;
        if (!(next instanceof Element) || ref.current?.contains(next) || next.closest('dialog')) return;
        onCloseRef.current(false);
      }}
      data-testid="member-menu"
      data-user-id={member.user.id}
    >
      <div className="member-popover-banner" style={banner ? { background: banner } : undefined} />
      <div className="member-popover-body">
        <span className="member-popover-avatar">
          <Avatar user={member.user} size={72} status={status} />
        </span>
        <h2 className="member-popover-name" id={titleId}>
          {name}
        </h2>
        <p className="member-popover-username">
          {member.user.username}
          {member.user.pronouns && <span> · {member.user.pronouns}</span>}
        </p>
        {custom && <p className="member-popover-custom">{custom.emoji ? `${custom.emoji} ${custom.text}` : custom.text}</p>}
        {timedOut && member.timeout_until && (
          <p className="member-popover-timeout" data-testid="member-timed-out">
            {t('members.timedOutUntil', { date: dateTimeFormat.format(Date.parse(member.timeout_until)) })}
          </p>
        )}
        {member.user.bio && (
          <section className="member-popover-section">
            <h3>{t('members.aboutMe')}</h3>
            <div className="member-popover-bio" data-testid="member-bio">
              <Markdown content={member.user.bio} serverId={server.id} roles={server.roles} meId={actor.userId} mentionEveryone={false} />
            </div>
          </section>
        )}
        <section className="member-popover-section">
          <h3>{t('members.memberSince')}</h3>
          <p className="member-popover-dates">
            {registered && <span>{t('members.onPapo', { date: registered })}</span>}
            {joined && <span>{t('members.onServer', { name: server.name, date: joined })}</span>}
          </p>
        </section>
        <MemberRolesSection
          server={server}
          member={member}
          assignableIds={actions.roles ? assignable.map((r) => r.id) : []}
          selfId={actor.userId}
        />
        {anyAction && (
          <div className="member-popover-actions" role="group" aria-label={t('members.actions')}>
            {actions.nickname && (
              <button type="button" className="popup-menu-item" onClick={() => onAction('nickname')} data-testid="nickname-button">
                {t('members.nickname.open')}
              </button>
            )}
            {actions.timeout && (
              <button type="button" className="popup-menu-item" onClick={() => onAction('timeout')} data-testid="timeout-button">
                {timedOut ? t('members.timeout.manage') : t('members.timeout.open', { name })}
              </button>
            )}
            {actions.kick && (
              <button
                type="button"
                className="popup-menu-item popup-menu-danger"
                onClick={() => onAction('kick')}
                data-testid="kick-button"
              >
                {t('members.kick.open', { name })}
              </button>
            )}
            {actions.ban && (
              <button
                type="button"
                className="popup-menu-item popup-menu-danger"
                onClick={() => onAction('ban')}
                data-testid="ban-button"
              >
                {t('members.ban.open', { name })}
              </button>
            )}
            {actions.transfer && (
              <button
                type="button"
                className="popup-menu-item popup-menu-danger"
                onClick={() => onAction('transfer')}
                data-testid="transfer-button"
              >
                {t('members.transfer.open')}
              </button>
            )}
          </div>
        )}
      </div>
    </div>
  );
}

interface MemberRolesSectionProps {
  server: ServerDetail;
  member: Member;
  /** Roles the user may add / remove (empty: read only). */
  assignableIds: readonly string[];
  /** The logged-in user. */
  selfId: string;
}

/** The member's roles; checkboxes for the roles the user may assign (saved at once). */
function MemberRolesSection({ server, member, assignableIds, selfId }: MemberRolesSectionProps) {
  const { t } = useTranslation();
  const { applyServerAction } = useAuthActions();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = useFormErrors(error, NO_FIELDS);
  const held = new Set(member.roles);
  const editable = new Set(assignableIds);
  const shown = sortRolesDesc(server.roles.filter((r) => !isEveryoneRole(r) && (held.has(r.id) || editable.has(r.id))));
  const readOnly = memberRoles(member.roles, server.roles);

  async function toggle(roleId: string, on: boolean) {
    if (busy) return;
    const roles = on ? [...member.roles.filter((r) => r !== roleId), roleId] : member.roles.filter((r) => r !== roleId);
    setBusy(true);
    setError(null);
    try {
      const updated = await membersApi.update(server.id, member.user.id, { roles });
      memberStore.dispatch({ type: 'member.upsert', member: updated });
      // Our own roles: our permissions change too.
      if (updated.user.id === selfId) {
        applyServerAction({ type: 'me.roles', server_id: server.id, self_id: updated.user.id, roles: updated.roles });
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (editable.size === 0) {
    return (
      <section className="member-popover-section">
        <h3>{t('members.roles')}</h3>
        {readOnly.length === 0 ? (
          <p className="member-popover-muted">{t('members.noRoles')}</p>
        ) : (
          <ul className="role-chips">
            {readOnly.map((role) => (
              <li key={role.id} className="role-chip">
                <span className="role-chip-dot" style={{ background: accentToCss(role.color) ?? 'var(--text-muted)' }} />
                {role.name}
              </li>
            ))}
          </ul>
        )}
      </section>
    );
  }

  return (
    <fieldset className="member-popover-section member-role-editor" disabled={busy} data-testid="member-roles">
      <legend>{t('members.roles')}</legend>
      <FormAlert message={errors.banner} />
      <ul className="role-checks">
        {shown.map((role) => (
          <li key={role.id}>
            <label className="role-check">
              <input
                type="checkbox"
                checked={held.has(role.id)}
                disabled={!editable.has(role.id)}
                onChange={(e) => void toggle(role.id, e.target.checked)}
                data-testid="member-role-checkbox"
                data-role-id={role.id}
              />
              <span className="role-chip-dot" style={{ background: accentToCss(role.color) ?? 'var(--text-muted)' }} />
              <span>{role.name}</span>
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}
