import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Avatar, accentToCss } from '../components/Avatar';
import { FormAlert } from '../components/FormAlert';
import { FormField } from '../components/FormField';
import { useFocusFirstInvalid, useFormErrors } from '../components/useFormErrors';
import { useAuthActions, useCurrentUser } from '../state/context';
import { profilePatch, profileValues, rebaseDraft, type ProfileValues } from './profileDraft';
import { SettingsSection } from './SettingsSection';

const FIELDS = ['display_name', 'bio', 'pronouns', 'accent_color'] as const;
const DEFAULT_ACCENT = 0x5865f2;

const orNull = (value: string): string | null => (value.trim() ? value.trim() : null);

export function ProfileSettings() {
  const { t } = useTranslation();
  const user = useCurrentUser();
  const { updateProfile } = useAuthActions();
  // What the form started from, and what it holds: only the difference is sent.
  const [base, setBase] = useState<ProfileValues>(() => profileValues(user));
  const [values, setValues] = useState<ProfileValues>(base);
  const draft = values;
  const accent = values.accent_color;
  const setAccent = (accent_color: number | null) => setValues((v) => ({ ...v, accent_color }));
  // A change from another session (user.updated) shows in the fields not touched here.
  const currentKey = JSON.stringify(profileValues(user));
  useEffect(() => {
    if (JSON.stringify(base) === currentKey) return;
    const next: ProfileValues = JSON.parse(currentKey);
    setValues((v) => rebaseDraft(base, v, next));
    setBase(next);
  }, [base, currentKey]);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors(error, FIELDS);
  const formRef = useRef<HTMLFormElement>(null);
  useFocusFirstInvalid(formRef, error);
  const accentId = useId();
  const dirty = JSON.stringify(values) !== JSON.stringify(base);
  const set = (name: 'display_name' | 'bio' | 'pronouns') => (value: string) => {
    setSaved(false);
    setValues((d) => ({ ...d, [name]: value }));
  };

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const updated = await updateProfile(profilePatch(base, values));
      const saved = profileValues(updated);
      setBase(saved);
      setValues(saved);
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const preview = {
    username: user.username,
    display_name: orNull(draft.display_name),
    accent_color: accent,
  };

  return (
    <SettingsSection title={t('settings.profile.title')} testId="settings-profile">
      <div className="profile-layout">
        <form ref={formRef} className="form" onSubmit={onSubmit} noValidate data-testid="profile-form">
          <FormAlert message={errors.banner} />
          <FormField
            name="display_name"
            label={t('settings.profile.displayName')}
            value={draft.display_name}
            onChange={set('display_name')}
            error={errors.fields.display_name}
            maxLength={32}
          />
          <FormField
            name="pronouns"
            label={t('settings.profile.pronouns')}
            value={draft.pronouns}
            onChange={set('pronouns')}
            error={errors.fields.pronouns}
            maxLength={40}
          />
          <FormField
            name="bio"
            label={t('settings.profile.bio')}
            value={draft.bio}
            onChange={set('bio')}
            error={errors.fields.bio}
            maxLength={190}
            multiline
          />
          <div className="field">
            <label className="field-label" htmlFor={accentId}>
              {t('settings.profile.accentColor')}
            </label>
            <div className="accent-row">
              <input
                id={accentId}
                name="accent_color"
                type="color"
                className="accent-input"
                data-empty={accent === null || undefined}
                value={accentToCss(accent ?? DEFAULT_ACCENT)}
                onChange={(e) => {
                  setSaved(false);
                  setAccent(parseInt(e.target.value.slice(1), 16));
                }}
              />
              <span className="accent-value">
                {accent === null ? t('settings.profile.noAccent') : accentToCss(accent)?.toUpperCase()}
              </span>
              <button
                type="button"
                className="button button-link"
                onClick={() => {
                  setSaved(false);
                  setAccent(null);
                }}
                disabled={accent === null}
              >
                {t('settings.profile.clearAccent')}
              </button>
            </div>
            {errors.fields.accent_color && (
              <p className="field-error" data-testid="field-error-accent_color">
                {errors.fields.accent_color}
              </p>
            )}
          </div>
          <div className="form-actions">
            {/* Not disabled while saving: the focus would fall to the page. */}
            <button type="submit" className="button button-primary" aria-disabled={busy} data-testid="profile-save">
              {busy ? t('common.saving') : t('common.save')}
            </button>
            <button
              type="button"
              className="button button-secondary"
              disabled={busy || !dirty}
              onClick={() => {
                setValues(base);
                setError(null);
                // The button turns disabled: the focus goes back to the form's first field.
                formRef.current?.querySelector<HTMLElement>('input, textarea')?.focus();
              }}
              data-testid="profile-reset"
            >
              {t('settings.profile.reset')}
            </button>
            <FormAlert kind="success" message={saved ? t('settings.profile.saved') : null} testId="profile-saved" />
          </div>
        </form>
        <aside className="profile-preview" aria-label={t('settings.profile.preview')}>
          <div
            className="profile-preview-banner"
            style={accent !== null ? { background: accentToCss(accent) } : undefined}
          />
          <div className="profile-preview-body">
            <span className="profile-preview-avatar">
              <Avatar user={preview} size={72} />
            </span>
            <p className="profile-preview-name">{preview.display_name ?? user.username}</p>
            <p className="profile-preview-username">
              {user.username}
              {orNull(draft.pronouns) && <span> · {orNull(draft.pronouns)}</span>}
            </p>
            {orNull(draft.bio) && <p className="profile-preview-bio">{orNull(draft.bio)}</p>}
          </div>
        </aside>
      </div>
    </SettingsSection>
  );
}
