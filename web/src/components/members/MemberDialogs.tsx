import { useId, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { AUDIT_REASON_MAX, REASON_HEADER_FIELD, bansApi, membersApi } from '../../api';
import { isTimedOut } from '../../api/hierarchy';
import type { Member, ServerDetail } from '../../api/types';
import { charCount } from '../../gateway/presence';
import { useAuthActions, useCurrentUser } from '../../state/context';
import { memberDisplayName } from '../../state/members';
import {
  BAN_DELETE_OPTIONS,
  NICKNAME_MAX,
  TIMEOUT_OPTIONS,
  nicknameValue,
  timeoutUntil,
} from '../../state/moderationOptions';
import { FormAlert } from '../FormAlert';
import { FormField } from '../FormField';
import { Modal } from '../Modal';
import { useFormErrors } from '../useFormErrors';
import { memberStore } from './useMembers';
import './members.css';

export type MemberDialogKind = 'nickname' | 'timeout' | 'kick' | 'ban' | 'transfer';

interface MemberActionDialogProps {
  kind: MemberDialogKind;
  server: ServerDetail;
  member: Member;
  onClose(): void;
}

/** The dialog of one member action (opened from the member popover). */
export function MemberActionDialog({ kind, server, member, onClose }: MemberActionDialogProps) {
  switch (kind) {
    case 'nickname':
      return <NicknameDialog server={server} member={member} onClose={onClose} />;
    case 'timeout':
      return <TimeoutDialog server={server} member={member} onClose={onClose} />;
    case 'kick':
      return <KickDialog server={server} member={member} onClose={onClose} />;
    case 'ban':
      return <BanDialog server={server} member={member} onClose={onClose} />;
    case 'transfer':
      return <TransferDialog server={server} member={member} onClose={onClose} />;
  }
}

interface ActionDialogProps {
  title: string;
  description?: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  /** The form is not valid yet (checked locally). */
  invalid?: boolean;
  /** Form fields whose errors go next to them. */
  fields: readonly string[];
  onSubmit(): Promise<void>;
  onClose(): void;
  testId: string;
  /** Extra buttons left of Cancel (e.g. "Remove timeout"). */
  extra?: (run: (action: () => Promise<void>) => void, busy: boolean) => ReactNode;
  children: (errors: Record<string, string>) => ReactNode;
}

/** A form in a modal: busy state, server errors, Cancel + confirm (`confirm-button`). */
function ActionDialog({
  title,
  description,
  confirmLabel,
  danger,
  invalid = false,
  fields,
  onSubmit,
  onClose,
  testId,
  extra,
  children,
}: ActionDialogProps) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // A reason given in the header is refused under the header's name: it is the reason field.
  const placed = useFormErrors(error, useMemo(() => [...fields, REASON_HEADER_FIELD], [fields]));
  const errors = useMemo(() => {
    const refused = placed.fields[REASON_HEADER_FIELD];
    return refused === undefined || placed.fields.reason !== undefined
      ? placed
      : { ...placed, fields: { ...placed.fields, reason: refused } };
  }, [placed]);

  const run = (action: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    action().then(onClose, (err: unknown) => {
      setError(err);
      setBusy(false);
    });
  };

  return (
    <Modal title={title} description={description} onClose={onClose} testId={testId}>
      <form
        className="form"
        noValidate
        onSubmit={(event: FormEvent<HTMLFormElement>) => {
          event.preventDefault();
          if (!invalid) run(onSubmit);
        }}
      >
        <FormAlert message={errors.banner} />
        {children(errors.fields)}
        <div className="dialog-actions">
          {extra?.(run, busy)}
          <span className="dialog-actions-spacer" />
          <button type="button" className="button button-link" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="submit"
            className={danger ? 'button button-danger' : 'button button-primary'}
            disabled={busy || invalid}
            data-testid="confirm-button"
          >
            {confirmLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function ReasonField({ value, onChange, error }: { value: string; onChange(value: string): void; error?: string | undefined }) {
  const { t } = useTranslation();
  return (
    <FormField
      name="reason"
      label={t('members.reason')}
      value={value}
      onChange={onChange}
      hint={t('members.reasonHint')}
      error={error}
      maxLength={AUDIT_REASON_MAX}
      multiline
    />
  );
}

interface DialogProps {
  server: ServerDetail;
  member: Member;
  onClose(): void;
}

function NicknameDialog({ server, member, onClose }: DialogProps) {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const [nickname, setNickname] = useState(member.nickname ?? '');
  const [reason, setReason] = useState('');
  const self = member.user.id === me.id;
  const tooLong = charCount(nickname.trim()) > NICKNAME_MAX;

  return (
    <ActionDialog
      title={self ? t('members.nickname.titleSelf') : t('members.nickname.title')}
      description={t('members.nickname.description', { username: member.user.username })}
      confirmLabel={t('common.save')}
      invalid={tooLong}
      fields={['nickname', 'reason']}
      testId="nickname-dialog"
      onClose={onClose}
      onSubmit={async () => {
        const updated = await membersApi.update(
          server.id,
          member.user.id,
          { nickname: nicknameValue(nickname) },
          self ? undefined : reason,
        );
        memberStore.dispatch({ type: 'member.upsert', member: updated });
      }}
      extra={(run, busy) =>
        member.nickname ? (
          <button
            type="button"
            className="button button-link"
            disabled={busy}
            onClick={() =>
              run(async () => {
                const updated = await membersApi.update(server.id, member.user.id, { nickname: null }, self ? undefined : reason);
                memberStore.dispatch({ type: 'member.upsert', member: updated });
              })
            }
            data-testid="nickname-reset"
          >
            {t('members.nickname.reset')}
          </button>
        ) : null
      }
    >
      {(errors) => (
        <>
          <FormField
            name="nickname"
            label={t('members.nickname.label')}
            value={nickname}
            onChange={setNickname}
            error={tooLong ? t('members.nickname.tooLong', { max: NICKNAME_MAX }) : errors.nickname}
            hint={t('members.nickname.hint', { name: member.user.display_name?.trim() || member.user.username })}
            maxLength={NICKNAME_MAX * 2}
            autoFocus
          />
          {!self && <ReasonField value={reason} onChange={setReason} error={errors.reason} />}
        </>
      )}
    </ActionDialog>
  );
}

function TimeoutDialog({ server, member, onClose }: DialogProps) {
  const { t, i18n } = useTranslation();
  const [secs, setSecs] = useState(TIMEOUT_OPTIONS[0]?.secs ?? 60);
  const [reason, setReason] = useState('');
  const name = memberDisplayName(member);
  const active = isTimedOut(member, Date.now());
  const legendId = useId();
  const until = member.timeout_until ? Date.parse(member.timeout_until) : NaN;
  const untilText = Number.isFinite(until)
    ? new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' }).format(until)
    : '';

  const apply = async (value: string | null) => {
    const updated = await membersApi.update(server.id, member.user.id, { timeout_until: value }, reason);
    memberStore.dispatch({ type: 'member.upsert', member: updated });
  };

  return (
    <ActionDialog
      title={t('members.timeout.title', { name })}
      description={active ? t('members.timedOutUntil', { date: untilText }) : t('members.timeout.description')}
      confirmLabel={active ? t('members.timeout.change') : t('members.timeout.confirm')}
      danger
      fields={['timeout_until', 'reason']}
      testId="timeout-dialog"
      onClose={onClose}
      onSubmit={() => apply(timeoutUntil(Date.now(), secs))}
      extra={(run, busy) =>
        active ? (
          <button
            type="button"
            className="button button-secondary"
            disabled={busy}
            onClick={() => run(() => apply(null))}
            data-testid="remove-timeout-button"
          >
            {t('members.timeout.remove')}
          </button>
        ) : null
      }
    >
      {(errors) => (
        <>
          <fieldset className="timeout-choices" aria-labelledby={legendId}>
            <legend id={legendId} className="field-label">
              {t('members.timeout.duration')}
            </legend>
            {TIMEOUT_OPTIONS.map((option) => (
              <label key={option.secs} className={option.secs === secs ? 'chip-choice chip-choice-selected' : 'chip-choice'}>
                <input
                  type="radio"
                  name="timeout"
                  value={option.secs}
                  checked={option.secs === secs}
                  onChange={() => setSecs(option.secs)}
                  data-testid={`timeout-${option.key}`}
                />
                {t(`members.timeout.durations.${option.key}`)}
              </label>
            ))}
          </fieldset>
          {errors.timeout_until && <p className="field-error">{errors.timeout_until}</p>}
          <ReasonField value={reason} onChange={setReason} error={errors.reason} />
        </>
      )}
    </ActionDialog>
  );
}

function KickDialog({ server, member, onClose }: DialogProps) {
  const { t } = useTranslation();
  const [reason, setReason] = useState('');
  const name = memberDisplayName(member);
  return (
    <ActionDialog
      title={t('members.kick.title', { name })}
      description={t('members.kick.body', { name, server: server.name })}
      confirmLabel={t('members.kick.confirm')}
      danger
      fields={['reason']}
      testId="kick-dialog"
      onClose={onClose}
      onSubmit={async () => {
        await membersApi.kick(server.id, member.user.id, reason);
        memberStore.dispatch({ type: 'member.removed', server_id: server.id, user_id: member.user.id });
      }}
    >
      {(errors) => <ReasonField value={reason} onChange={setReason} error={errors.reason} />}
    </ActionDialog>
  );
}

function BanDialog({ server, member, onClose }: DialogProps) {
  const { t } = useTranslation();
  const [reason, setReason] = useState('');
  const [deleteSecs, setDeleteSecs] = useState(0);
  const selectId = useId();
  const name = memberDisplayName(member);
  return (
    <ActionDialog
      title={t('members.ban.title', { name })}
      description={t('members.ban.body', { name, server: server.name })}
      confirmLabel={t('members.ban.confirm')}
      danger
      fields={['reason', 'delete_message_secs']}
      testId="ban-dialog"
      onClose={onClose}
      onSubmit={async () => {
        const text = reason.trim();
        await bansApi.ban(server.id, member.user.id, {
          ...(text ? { reason: Array.from(text).slice(0, AUDIT_REASON_MAX).join('') } : {}),
          delete_message_secs: deleteSecs,
        });
        memberStore.dispatch({ type: 'member.removed', server_id: server.id, user_id: member.user.id });
      }}
    >
      {(errors) => (
        <>
          <div className="field">
            <label className="field-label" htmlFor={selectId}>
              {t('members.ban.deleteMessages')}
            </label>
            <select
              id={selectId}
              name="delete_message_secs"
              className="input"
              value={String(deleteSecs)}
              onChange={(e) => setDeleteSecs(Number(e.target.value))}
              data-testid="ban-delete-messages"
            >
              {BAN_DELETE_OPTIONS.map((option) => (
                <option key={option.secs} value={String(option.secs)}>
                  {t(`members.ban.delete.${option.key}`)}
                </option>
              ))}
            </select>
            {errors.delete_message_secs && <p className="field-error">{errors.delete_message_secs}</p>}
          </div>
          <ReasonField value={reason} onChange={setReason} error={errors.reason} />
        </>
      )}
    </ActionDialog>
  );
}

/** Owner only: makes the member the owner; the user keeps only what their roles give. */
function TransferDialog({ server, member, onClose }: DialogProps) {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const { applyServerAction } = useAuthActions();
  const name = memberDisplayName(member);
  return (
    <ActionDialog
      title={t('members.transfer.title', { server: server.name })}
      description={t('members.transfer.body', { name, server: server.name })}
      confirmLabel={t('members.transfer.confirm')}
      danger
      fields={['owner_id']}
      testId="transfer-dialog"
      onClose={onClose}
      onSubmit={async () => {
        const updated = await membersApi.transferOwnership(server.id, member.user.id);
        // At once (server.updated follows): the new owner, and our permissions without ownership.
        applyServerAction({ type: 'server.updated', server: updated, self_id: me.id });
      }}
    >
      {(errors) =>
        // 422 fields.owner_id: they left (or were removed) meanwhile.
        errors.owner_id ? <p className="field-error">{t('members.transfer.notMember', { name })}</p> : null
      }
    </ActionDialog>
  );
}
