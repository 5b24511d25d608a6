import { useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { localFieldErrors } from '../api/errors';
import { useAuth, useAuthActions } from '../state/context';
import { FormAlert } from './FormAlert';
import { FormField } from './FormField';
import { useFocusFirstInvalid, useFormErrors } from './useFormErrors';

const FIELDS = ['login', 'password'] as const;

export function LoginForm() {
  const { t } = useTranslation();
  const { login } = useAuthActions();
  const { sessionExpired } = useAuth();
  const [values, setValues] = useState({ login: '', password: '' });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors(error, FIELDS);
  const formRef = useRef<HTMLFormElement>(null);
  useFocusFirstInvalid(formRef, error);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    // Nothing to check yet: say so here rather than spend one of the few tries a minute.
    const missing = Object.fromEntries(
      [['login', values.login.trim()] as const, ['password', values.password] as const]
        .filter(([, value]) => value === '')
        .map(([name]) => [name, 'required']),
    );
    if (Object.keys(missing).length > 0) {
      setError(localFieldErrors(missing));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login({ login: values.login.trim(), password: values.password });
      // <GuestOnly> sends us on to the app.
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <form ref={formRef} className="form" onSubmit={onSubmit} noValidate data-testid="login-form">
      {!error && sessionExpired && <FormAlert kind="info" message={t('auth.sessionExpired')} testId="session-expired" />}
      <FormAlert message={errors.banner} />
      <FormField
        name="login"
        label={t('auth.loginLabel')}
        value={values.login}
        onChange={(login) => setValues((v) => ({ ...v, login }))}
        autoComplete="username"
        error={errors.fields.login}
        required
        autoFocus
      />
      <FormField
        name="password"
        label={t('auth.password')}
        type="password"
        value={values.password}
        onChange={(password) => setValues((v) => ({ ...v, password }))}
        autoComplete="current-password"
        error={errors.fields.password}
        required
      />
      <button type="submit" className="button button-primary button-block" disabled={busy}>
        {busy ? t('auth.submittingLogin') : t('auth.submitLogin')}
      </button>
    </form>
  );
}
