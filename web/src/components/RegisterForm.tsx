import { useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { RegisterInput } from '../api/types';
import { useAuthActions } from '../state/context';
import { FormAlert } from './FormAlert';
import { FormField } from './FormField';
import { useFocusFirstInvalid, useFormErrors } from './useFormErrors';

const FIELDS = ['email', 'display_name', 'username', 'password'] as const;

export function RegisterForm() {
  const { t } = useTranslation();
  const { register } = useAuthActions();
  const [values, setValues] = useState({ email: '', display_name: '', username: '', password: '' });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors(error, FIELDS);
  const formRef = useRef<HTMLFormElement>(null);
  useFocusFirstInvalid(formRef, error);
  const set = (name: keyof typeof values) => (value: string) =>
    setValues((v) => ({ ...v, [name]: value }));

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    const input: RegisterInput = {
      username: values.username.trim(),
      email: values.email.trim(),
      password: values.password,
    };
    const displayName = values.display_name.trim();
    if (displayName) input.display_name = displayName;
    try {
      await register(input);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <form ref={formRef} className="form" onSubmit={onSubmit} noValidate data-testid="register-form">
      <FormAlert message={errors.banner} />
      <FormField
        name="email"
        label={t('auth.email')}
        type="email"
        value={values.email}
        onChange={set('email')}
        autoComplete="email"
        error={errors.fields.email}
        required
        autoFocus
      />
      <FormField
        name="display_name"
        label={t('auth.displayName')}
        value={values.display_name}
        onChange={set('display_name')}
        autoComplete="nickname"
        hint={t('auth.displayNameHint')}
        error={errors.fields.display_name}
        maxLength={32}
      />
      <FormField
        name="username"
        label={t('auth.username')}
        value={values.username}
        onChange={set('username')}
        autoComplete="username"
        hint={t('auth.usernameHint')}
        error={errors.fields.username}
        required
        maxLength={32}
      />
      <FormField
        name="password"
        label={t('auth.password')}
        type="password"
        value={values.password}
        onChange={set('password')}
        autoComplete="new-password"
        hint={t('auth.passwordHint')}
        error={errors.fields.password}
        required
      />
      <button type="submit" className="button button-primary button-block" disabled={busy}>
        {busy ? t('auth.submittingRegister') : t('auth.submitRegister')}
      </button>
    </form>
  );
}
