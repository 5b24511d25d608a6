import { isApiError } from '../api/errors';

export interface Translator {
  t(key: string, options?: Record<string, unknown>): string;
  exists(key: string): boolean;
}

/** Text for an API error code (`errors.<code>`), else the server's message. */
export function errorCodeText(tr: Translator, code: string, fallback?: string): string {
  const key = `errors.${code}`;
  if (tr.exists(key)) return tr.t(key);
  return fallback && fallback.trim() ? fallback : tr.t('errors.unknown_error');
}

export interface FormErrorTexts {
  /** Message shown above the form, if any. */
  banner: string | null;
  /** Messages shown next to inputs, by API field name. */
  fields: Record<string, string>;
}

/**
 * Splits an error into a banner and per-field messages. Field errors for
 * inputs the form shows go next to them; if every field error is shown
 * there, the generic banner (e.g. validation_failed) is left out.
 */
export function formErrorTexts(
  tr: Translator,
  error: unknown,
  formFields: readonly string[],
): FormErrorTexts {
  if (error === null || error === undefined) return { banner: null, fields: {} };
  if (!isApiError(error)) return { banner: tr.t('errors.unknown_error'), fields: {} };

  const fields: Record<string, string> = {};
  const unplaced: string[] = [];
  // A generic field code under a specific error (e.g. `invalid_password` with
  // fields.current_password.code = `invalid_value`): the specific text says more.
  const specific =
    error.code !== 'validation_failed' && tr.exists(`errors.${error.code}`) ? error.code : null;
  for (const [name, fieldError] of Object.entries(error.fields)) {
    const code = fieldError.code === 'invalid_value' && specific ? specific : fieldError.code;
    // A length says its limit ("At most 100 characters."), in the reader's language.
    const limited = (code === 'too_long' || code === 'too_short') && fieldError.limit !== undefined;
    const text = limited
      ? tr.t(`errors.${code}_limit`, { count: fieldError.limit })
      : errorCodeText(tr, code, fieldError.message);
    if (formFields.includes(name)) fields[name] = text;
    else unplaced.push(text);
  }

  let banner: string | null;
  if (Object.keys(fields).length > 0 && unplaced.length === 0) {
    banner = null;
  } else if (error.code === 'rate_limited' && error.retryAfter !== null) {
    banner = retryText(tr, error.retryAfter);
  } else if (unplaced.length > 0 && error.code === 'validation_failed') {
    banner = unplaced.join(' ');
  } else {
    banner = errorCodeText(tr, error.code, error.message);
  }
  return { banner, fields };
}

/** "Try again in 30 seconds", or in minutes from a minute on ("in 15 minutes", not "in 895 s"). */
export function retryText(tr: Translator, seconds: number): string {
  if (seconds < 60) return tr.t('errors.rate_limited_retry', { seconds });
  return tr.t('errors.rate_limited_retry_minutes', { count: Math.ceil(seconds / 60) });
}
