import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Locale } from '../api/types';
import { FormAlert } from '../components/FormAlert';
import { useFormErrors } from '../components/useFormErrors';
import { useAuthActions, useCurrentUser } from '../state/context';
import { ChoiceGroup, type Choice } from './ChoiceGroup';
import { SettingsSection } from './SettingsSection';

type LocaleChoice = Locale | 'auto';
const NO_FIELDS: readonly string[] = [];

/** Picking a language saves it and switches the UI at once. */
export function LanguageSettings() {
  const { t } = useTranslation();
  const user = useCurrentUser();
  const { updateSettings } = useAuthActions();
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const errors = useFormErrors(error, NO_FIELDS);

  const choices: Choice<LocaleChoice>[] = [
    { value: 'auto', label: t('settings.language.auto'), testId: 'language-auto' },
    { value: 'en', label: t('languages.en'), lang: 'en', testId: 'language-en' },
    { value: 'pt-BR', label: t('languages.pt-BR'), lang: 'pt-BR', testId: 'language-pt-BR' },
  ];

  async function choose(choice: LocaleChoice) {
    setError(null);
    setSaved(false);
    try {
      await updateSettings({ locale: choice === 'auto' ? null : choice });
      setSaved(true);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <SettingsSection
      title={t('settings.language.title')}
      description={t('settings.language.description')}
      testId="settings-language"
    >
      <FormAlert message={errors.banner} />
      <ChoiceGroup
        name="locale"
        legend={t('settings.language.title')}
        value={user.settings.locale ?? 'auto'}
        choices={choices}
        onChange={(choice) => void choose(choice)}
      />
      <FormAlert kind="success" message={saved ? t('settings.language.saved') : null} testId="language-saved" />
    </SettingsSection>
  );
}
