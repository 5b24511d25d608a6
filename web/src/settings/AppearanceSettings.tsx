import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Theme } from '../api/types';
import { FormAlert } from '../components/FormAlert';
import { useFormErrors } from '../components/useFormErrors';
import { useAuthActions, useCurrentUser } from '../state/context';
import { ChoiceGroup, type Choice } from './ChoiceGroup';
import { SettingsSection } from './SettingsSection';

const NO_FIELDS: readonly string[] = [];

export function AppearanceSettings() {
  const { t } = useTranslation();
  const user = useCurrentUser();
  const { updateSettings } = useAuthActions();
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const errors = useFormErrors(error, NO_FIELDS);

  const swatch = (theme: Theme, label: string) => (
    <span className="theme-choice">
      <span className={`theme-swatch theme-swatch-${theme}`} aria-hidden="true" />
      {label}
    </span>
  );
  const choices: Choice<Theme>[] = [
    { value: 'dark', label: swatch('dark', t('settings.appearance.dark')), testId: 'theme-dark' },
    { value: 'light', label: swatch('light', t('settings.appearance.light')), testId: 'theme-light' },
    { value: 'system', label: swatch('system', t('settings.appearance.system')), testId: 'theme-system' },
  ];

  async function choose(theme: Theme) {
    setError(null);
    setSaved(false);
    try {
      await updateSettings({ theme });
      setSaved(true);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <SettingsSection title={t('settings.appearance.title')} testId="settings-appearance">
      <FormAlert message={errors.banner} />
      <ChoiceGroup
        name="theme"
        legend={t('settings.appearance.theme')}
        value={user.settings.theme}
        choices={choices}
        onChange={(theme) => void choose(theme)}
      />
      <FormAlert kind="success" message={saved ? t('settings.appearance.saved') : null} testId="theme-saved" />
    </SettingsSection>
  );
}
