import { useEffect, useMemo, type RefObject } from 'react';
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

/**
 * After a refused submit, the focus goes to the first field said to be wrong, so that a
 * screen reader reads it with its error (else nothing was said: the focus stayed on the
 * button).
 */
export function useFocusFirstInvalid(form: RefObject<HTMLFormElement | null>, error: unknown): void {
  useEffect(() => {
    if (error === null || error === undefined) return;
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [form, error]);
}
