import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { parseInviteCode } from '../../state/invites';
import { CompassIcon } from '../communityIcons';
import { FormAlert } from '../FormAlert';
import { Modal } from '../Modal';
import { useShell } from '../shell';
import { useInviteErrorText, useJoinServer } from './useJoinServer';
import './invites.css';

/** The rail's "Join a server" button (under "Add a server") and its dialog. */
export function JoinServerButton() {
  const { t } = useTranslation();
  const { closeMenu } = useShell();
  const [open, setOpen] = useState(false);
  return (
    <div className="rail-item">
      <button
        type="button"
        className="rail-button rail-add rail-join"
        onClick={() => {
          closeMenu();
          setOpen(true);
        }}
        aria-label={t('invites.join.title')}
        title={t('invites.join.title')}
        data-testid="join-server-button"
      >
        <CompassIcon size={22} />
      </button>
      {open && <JoinServerDialog onClose={() => setOpen(false)} />}
    </div>
  );
}

/** Paste an invite link or code → `POST /invites/{code}/accept` → the server. */
export function JoinServerDialog({ onClose }: { onClose(): void }) {
  const { t } = useTranslation();
  const join = useJoinServer();
  const [value, setValue] = useState('');
  const [invalid, setInvalid] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errorText = useInviteErrorText(error);
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    const code = parseInviteCode(value);
    setError(null);
    if (!code) {
      setInvalid(true);
      return;
    }
    setBusy(true);
    try {
      await join(code);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <Modal title={t('invites.join.title')} description={t('invites.join.description')} onClose={onClose} testId="join-server-dialog">
      <form className="form" onSubmit={onSubmit} noValidate>
        <FormAlert message={errorText} />
        <div className="field">
          <label className="field-label" htmlFor={inputId}>
            {t('invites.join.label')}
            <span className="field-required" aria-hidden="true">
              {' *'}
            </span>
          </label>
          <input
            id={inputId}
            name="invite"
            className={invalid ? 'input input-invalid' : 'input'}
            value={value}
            onChange={(e) => {
              setValue(e.target.value);
              setInvalid(false);
              setError(null);
            }}
            placeholder={`${window.location.origin}/invite/hTKzmak`}
            autoComplete="off"
            spellCheck={false}
            required
            autoFocus
            aria-invalid={invalid || undefined}
            aria-describedby={invalid ? errorId : hintId}
            data-testid="invite-input"
          />
          {invalid ? (
            <p className="field-error" id={errorId} data-testid="field-error-invite">
              {t('invites.join.invalid')}
            </p>
          ) : (
            <p className="field-hint" id={hintId}>
              {t('invites.join.hint')}
            </p>
          )}
        </div>
        <div className="dialog-actions">
          <button type="button" className="button button-link" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary" disabled={busy || !value.trim()} data-testid="join-submit">
            {busy ? t('invites.join.submitting') : t('invites.join.submit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
