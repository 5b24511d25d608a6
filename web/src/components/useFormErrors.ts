import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { formErrorTexts, type FormErrorTexts, type Translator } from '../i18n/errors';

export function useTranslator(): Translator {
  const { t, i18n } = useTranslation();
  return useMemo<Translator>(
    () => ({
      t: (key, options) => String(t(key, options)),
      exists: (key) => i18n.exists(key),
    }),
    [t, i18n],
  );
}

/** Translated banner + field messages for the last error of a form. */
export function useFormErrors(error: unknown, fields: readonly string[]): FormErrorTexts {
  const tr = useTranslator();
  return useMemo(() => formErrorTexts(tr, error, fields), [tr, error, fields]);
}
