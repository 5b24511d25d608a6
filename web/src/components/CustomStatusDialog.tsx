import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import {
  CLEAR_AFTER_OPTIONS,
  CUSTOM_STATUS_EMOJI_MAX_CHARS,
  CUSTOM_STATUS_MAX_CHARS,
  charCount,
  customStatusFromDraft,
  validateCustomStatus,
  type ClearAfter,
  type CustomStatusErrors,
} from '../gateway/presence';
import type { CustomStatus } from '../gateway/protocol';
import { FormAlert } from './FormAlert';
import { FormField } from './FormField';
import { useFocusFirstInvalid, useFormErrors } from './useFormErrors';

const TEXT_FIELD = 'settings.custom_status.text';
const EMOJI_FIELD = 'settings.custom_status.emoji';
const SERVER_FIELDS = [TEXT_FIELD, EMOJI_FIELD] as const;

interface CustomStatusDialogProps {
  /** The custom status being edited, if any. */
  initial: CustomStatus | null;
  /** Saves it; a rejection (the server refused it) is shown in the dialog. */
  onSave(custom: CustomStatus | null): Promise<void>;
  onClose(): void;
}

/** Modal form: text (≤ 128), emoji (≤ 32) and when to clear it. */
export function CustomStatusDialog({ initial, onSave, onClose }: CustomStatusDialogProps) {
  const { t, i18n } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();
  const selectId = useId();
  const [text, setText] = useState(initial?.text ?? '');
  const [emoji, setEmoji] = useState(initial?.emoji ?? '');
  // A status that clears at some time keeps that time unless another choice is made (it was
  // lost on every edit: the choice started at "Don't clear").
  const kept = initial?.expires_at ?? null;
  const [clearAfter, setClearAfter] = useState<ClearAfter | 'keep'>(kept ? 'keep' : 'never');
  const keptLabel = kept
    ? new Intl.DateTimeFormat(i18n.language, { dateStyle: 'short', timeStyle: 'short' }).format(new Date(kept))
    : '';
  const [errors, setErrors] = useState<CustomStatusErrors>({});
  const [saveError, setSaveError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const refused = useFormErrors(saveError, SERVER_FIELDS);
  const formRef = useRef<HTMLFormElement>(null);
  useFocusFirstInvalid(formRef, saveError);

  // Unmounting removes the element, which also takes it out of the top layer.
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  const message = (field: 'text' | 'emoji'): string | undefined => {
    const code = errors[field];
    if (!code) return refused.fields[field === 'text' ? TEXT_FIELD : EMOJI_FIELD];
    if (code === 'required') return t('presence.dialog.textRequired');
    const max = field === 'text' ? CUSTOM_STATUS_MAX_CHARS : CUSTOM_STATUS_EMOJI_MAX_CHARS;
    return t('presence.dialog.tooLong', { max });
  };

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    const draft = { text, emoji, clearAfter: clearAfter === 'keep' ? ('never' as const) : clearAfter };
    const found = validateCustomStatus(draft);
    setErrors(found);
    setSaveError(null);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const custom = customStatusFromDraft(draft, new Date());
      await onSave(custom && clearAfter === 'keep' && kept ? { ...custom, expires_at: kept } : custom);
    } catch (err) {
      setSaveError(err);
      setBusy(false);
    }
  }

  return (
    <dialog
      ref={ref}
      className="dialog custom-status-dialog"
      aria-labelledby={titleId}
      aria-describedby={descriptionId}
      data-testid="custom-status-dialog"
      onClose={onClose}
    >
      <form ref={formRef} className="form dialog-body" onSubmit={onSubmit} noValidate>
        <header className="dialog-header">
          <h2 id={titleId}>{t('presence.dialog.title')}</h2>
          <p id={descriptionId}>{t('presence.dialog.description')}</p>
        </header>
        <FormAlert message={refused.banner} />
        <FormField
          name="custom_status_emoji"
          label={t('presence.dialog.emoji')}
          value={emoji}
          onChange={(value) => {
            setEmoji(value);
            setErrors((e) => ({ ...e, emoji: undefined }));
            setSaveError(null);
          }}
          error={message('emoji')}
          hint={t('presence.dialog.counter', { count: charCount(emoji), max: CUSTOM_STATUS_EMOJI_MAX_CHARS })}
        />
        <FormField
          name="custom_status_text"
          label={t('presence.dialog.text')}
          value={text}
          onChange={(value) => {
            setText(value);
            setErrors((e) => ({ ...e, text: undefined }));
            setSaveError(null);
          }}
          error={message('text')}
          hint={t('presence.dialog.counter', { count: charCount(text), max: CUSTOM_STATUS_MAX_CHARS })}
          autoFocus
        />
        <div className="field">
          <label className="field-label" htmlFor={selectId}>
            {t('presence.dialog.clearAfter')}
          </label>
          <select
            id={selectId}
            name="clear_after"
            className="input"
            value={clearAfter}
            onChange={(e) => setClearAfter(e.target.value as ClearAfter | 'keep')}
          >
            {kept && <option value="keep">{t('presence.clearAfter.keep', { time: keptLabel })}</option>}
            {CLEAR_AFTER_OPTIONS.map((option) => (
              <option key={option} value={option}>
                {t(`presence.clearAfter.${option}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="dialog-actions">
          <button type="button" className="button button-link" onClick={() => ref.current?.close()}>
            {t('presence.dialog.cancel')}
          </button>
          <button
            type="submit"
            className="button button-primary"
            aria-disabled={busy || undefined}
            data-testid="custom-status-save"
          >
            {t('presence.dialog.save')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
