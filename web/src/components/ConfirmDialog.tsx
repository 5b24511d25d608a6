import { useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { FormAlert } from './FormAlert';
import { FormField } from './FormField';
import { Modal } from './Modal';
import { useFormErrors } from './useFormErrors';

interface ConfirmDialogProps {
  title: string;
  body: ReactNode;
  confirmLabel: string;
  /** Runs the action; a rejection is shown in the dialog. */
  onConfirm(): Promise<void>;
  onClose(): void;
  /** The user must type this text (e.g. the server's name) to confirm. */
  requireText?: { value: string; label: string };
  testId?: string;
}

const NO_FIELDS: readonly string[] = [];

/** "Are you sure?" for destructive actions. */
export function ConfirmDialog({
  title,
  body,
  confirmLabel,
  onConfirm,
  onClose,
  requireText,
  testId = 'confirm-dialog',
}: ConfirmDialogProps) {
  const { t } = useTranslation();
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = useFormErrors(error, NO_FIELDS);
  const matches = !requireText || typed.trim() === requireText.value.trim();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy || !matches) return;
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <Modal title={title} onClose={onClose} testId={testId} className="confirm-dialog">
      <form className="form" onSubmit={onSubmit} noValidate>
        <div className="confirm-body">{body}</div>
        <FormAlert message={errors.banner} />
        {requireText && (
          <FormField
            name="confirm_text"
            label={requireText.label}
            value={typed}
            onChange={setTyped}
            autoFocus
          />
        )}
        <div className="dialog-actions">
          <button type="button" className="button button-link" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="submit"
            className="button button-danger"
            disabled={busy || !matches}
            data-testid="confirm-button"
          >
            {confirmLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}
