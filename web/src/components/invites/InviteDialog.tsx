import { useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { invitesApi } from '../../api';
import type { Invite, ServerDetail } from '../../api/types';
import {
  DEFAULT_INVITE_EXPIRY_SECS,
  INVITE_EXPIRY_OPTIONS,
  INVITE_MAX_USES_OPTIONS,
  inviteUrl,
} from '../../state/invites';
import { CopyIcon } from '../communityIcons';
import { FormAlert } from '../FormAlert';
import { Modal } from '../Modal';
import { useFormErrors } from '../useFormErrors';
import './invites.css';

const FIELDS = ['max_age_secs', 'max_uses'] as const;

/** Copies text to the clipboard; falls back to selecting the input and `execCommand('copy')`. */
async function copyText(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* not allowed: try the old way */
  }
  if (!input) return false;
  input.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/** "Invite people": expiry and max uses → `POST /servers/{id}/invites` → the link to share. */
export function InviteDialog({ server, onClose }: { server: ServerDetail; onClose(): void }) {
  const { t, i18n } = useTranslation();
  const [maxAge, setMaxAge] = useState(DEFAULT_INVITE_EXPIRY_SECS);
  const [maxUses, setMaxUses] = useState(0);
  const [invite, setInvite] = useState<Invite | null>(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = useFormErrors(error, FIELDS);
  const expiryId = useId();
  const usesId = useId();
  const linkId = useId();
  const linkRef = useRef<HTMLInputElement>(null);
  const link = invite ? inviteUrl(window.location.origin, invite.code) : '';

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      setInvite(await invitesApi.create(server.id, { max_age_secs: maxAge, max_uses: maxUses }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const expires = invite?.expires_at ? Date.parse(invite.expires_at) : NaN;
  const summary = invite
    ? [
        Number.isFinite(expires)
          ? t('invites.dialog.expiresAt', {
              date: new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' }).format(expires),
            })
          : t('invites.dialog.neverExpires'),
        invite.max_uses > 0 ? t('invites.dialog.maxUsesSummary', { count: invite.max_uses }) : t('invites.dialog.unlimitedUses'),
      ].join(' · ')
    : null;

  return (
    <Modal
      title={t('invites.dialog.title', { name: server.name })}
      description={t('invites.dialog.description')}
      onClose={onClose}
      testId="invite-dialog"
    >
      <form className="form" onSubmit={onSubmit} noValidate>
        <FormAlert message={errors.banner} />
        <div className="invite-options">
          <div className="field">
            <label className="field-label" htmlFor={expiryId}>
              {t('invites.dialog.expireAfter')}
            </label>
            <select
              id={expiryId}
              className={errors.fields.max_age_secs ? 'input input-invalid' : 'input'}
              value={String(maxAge)}
              onChange={(e) => setMaxAge(Number(e.target.value))}
              data-testid="invite-expiry"
            >
              {INVITE_EXPIRY_OPTIONS.map((option) => (
                <option key={option.secs} value={String(option.secs)}>
                  {t(`invites.expiry.${option.key}`)}
                </option>
              ))}
            </select>
            {errors.fields.max_age_secs && <p className="field-error">{errors.fields.max_age_secs}</p>}
          </div>
          <div className="field">
            <label className="field-label" htmlFor={usesId}>
              {t('invites.dialog.maxUses')}
            </label>
            <select
              id={usesId}
              className={errors.fields.max_uses ? 'input input-invalid' : 'input'}
              value={String(maxUses)}
              onChange={(e) => setMaxUses(Number(e.target.value))}
              data-testid="invite-max-uses"
            >
              {INVITE_MAX_USES_OPTIONS.map((uses) => (
                <option key={uses} value={String(uses)}>
                  {uses === 0 ? t('invites.maxUses.unlimited') : t('invites.maxUses.count', { count: uses })}
                </option>
              ))}
            </select>
            {errors.fields.max_uses && <p className="field-error">{errors.fields.max_uses}</p>}
          </div>
        </div>
        {invite && (
          <div className="field">
            <label className="field-label" htmlFor={linkId}>
              {t('invites.dialog.link')}
            </label>
            <div className="invite-link-row">
              <input
                ref={linkRef}
                id={linkId}
                className="input invite-link"
                value={link}
                readOnly
                onFocus={(e) => e.currentTarget.select()}
                data-testid="invite-link"
              />
              <button
                type="button"
                className={copied ? 'button button-secondary invite-copied' : 'button button-primary'}
                onClick={() => void copyText(link, linkRef.current).then(setCopied)}
                data-testid="invite-copy"
              >
                <CopyIcon size={16} />
                {copied ? t('invites.dialog.copied') : t('invites.dialog.copy')}
              </button>
            </div>
            <p className="field-hint" role="status">
              {summary}
            </p>
          </div>
        )}
        <div className="dialog-actions">
          <button type="button" className="button button-link" onClick={onClose}>
            {t('common.close')}
          </button>
          <button
            type="submit"
            className={invite ? 'button button-secondary' : 'button button-primary'}
            disabled={busy}
            data-testid="invite-create"
          >
            {busy ? t('invites.dialog.creating') : invite ? t('invites.dialog.createAnother') : t('invites.dialog.create')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
