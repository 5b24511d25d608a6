import { useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { FormAlert } from '../components/FormAlert';
import { FormField } from '../components/FormField';
import { localFieldErrors } from '../api/errors';
import { useFocusFirstInvalid, useFormErrors } from '../components/useFormErrors';
import { useAuthActions, useCurrentUser } from '../state/context';
import { SettingsSection } from './SettingsSection';

const FIELDS = ['current_password', 'new_password'] as const;

export function PasswordSettings() {
  const { t } = useTranslation();
  const user = useCurrentUser();
  const { changePassword } = useAuthActions();
  const [values, setValues] = useState({ current_password: '', new_password: '' });
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors(error, FIELDS);
  const formRef = useRef<HTMLFormElement>(null);
  useFocusFirstInvalid(formRef, error);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    // Said here, not as a wrong password by the server (nor spending one of its tries).
    const missing = Object.fromEntries(FIELDS.filter((name) => values[name] === '').map((name) => [name, 'required']));
    if (Object.keys(missing).length > 0) {
      setDone(false);
      setError(localFieldErrors(missing));
      return;
    }
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      await changePassword(values);
      setValues({ current_password: '', new_password: '' });
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <SettingsSection
      title={t('settings.password.title')}
      description={t('settings.password.description')}
      testId="settings-password"
    >
      <form ref={formRef} className="form form-narrow" onSubmit={onSubmit} noValidate data-testid="password-form">
        {/* Lets password managers attach the new password to the right account. */}
        <input type="text" name="username" autoComplete="username" value={user.username} readOnly hidden />
        <FormAlert message={errors.banner} />
        <FormField
          name="current_password"
          label={t('settings.password.current')}
          type="password"
          value={values.current_password}
          onChange={(current_password) => setValues((v) => ({ ...v, current_password }))}
          autoComplete="current-password"
          error={errors.fields.current_password}
          required
        />
        <FormField
          name="new_password"
          label={t('settings.password.new')}
          type="password"
          value={values.new_password}
          onChange={(new_password) => setValues((v) => ({ ...v, new_password }))}
          autoComplete="new-password"
          hint={t('auth.passwordHint')}
          error={errors.fields.new_password}
          required
        />
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? t('settings.password.submitting') : t('settings.password.submit')}
          </button>
        </div>
        <FormAlert kind="success" message={done ? t('settings.password.changed') : null} testId="password-changed" />
      </form>
    </SettingsSection>
  );
}
