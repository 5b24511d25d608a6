import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors';
import { formErrorTexts, type Translator } from './errors';
import { en } from './locales';

const tr: Translator = {
  exists: (key) => lookup(key) !== undefined,
  t: (key, options) => {
    // Plurals as i18next picks them in English: `_one` for 1, `_other` otherwise.
    const count = options?.count;
    const plural = typeof count === 'number' ? lookup(`${key}_${count === 1 ? 'one' : 'other'}`) : undefined;
    const text = lookup(key) ?? plural ?? key;
    return text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(options?.[name] ?? ''));
  },
};

function lookup(key: string): string | undefined {
  let node: unknown = en;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' ? node : undefined;
}

describe('formErrorTexts', () => {
  it('puts translated field errors next to their inputs and drops the generic banner', () => {
    const err = new ApiError({
      status: 422,
      code: 'validation_failed',
      message: 'invalid',
      fields: { password: { code: 'password_too_short', message: 'too short' } },
    });
    const out = formErrorTexts(tr, err, ['username', 'password']);
    expect(out.banner).toBeNull();
    expect(out.fields.password).toBe(en.errors.password_too_short);
  });

  it('says a length limit the server gives, and the generic text without one', () => {
    const err = new ApiError({
      status: 422,
      code: 'validation_failed',
      message: 'invalid',
      fields: {
        name: { code: 'too_short', message: 'At least 2 characters.', limit: 2 },
        topic: { code: 'too_long', message: 'At most 1024 characters.', limit: 1024 },
        bio: { code: 'too_long', message: 'Too long.' },
      },
    });
    expect(formErrorTexts(tr, err, ['name', 'topic', 'bio']).fields).toEqual({
      name: 'At least 2 characters.',
      topic: 'At most 1024 characters.',
      bio: en.errors.too_long,
    });
  });

  it('explains a generic field code with the specific top-level code', () => {
    const err = new ApiError({
      status: 401,
      code: 'invalid_password',
      message: 'The current password is wrong.',
      fields: { current_password: { code: 'invalid_value', message: 'The current password is wrong.' } },
    });
    const out = formErrorTexts(tr, err, ['current_password', 'new_password']);
    expect(out.banner).toBeNull();
    expect(out.fields.current_password).toBe(en.errors.invalid_password);
  });

  it('falls back to the server message for unknown codes', () => {
    const err = new ApiError({
      status: 422,
      code: 'validation_failed',
      message: 'invalid',
      fields: { username: { code: 'brand_new_code', message: 'Server says no' } },
    });
    expect(formErrorTexts(tr, err, ['username']).fields.username).toBe('Server says no');
  });

  it('shows top-level errors in the banner', () => {
    const err = new ApiError({ status: 401, code: 'invalid_credentials', message: 'x' });
    expect(formErrorTexts(tr, err, ['login']).banner).toBe(en.errors.invalid_credentials);
  });

  it('includes the retry delay of rate limits', () => {
    const err = new ApiError({ status: 429, code: 'rate_limited', message: 'x', retryAfter: 42 });
    expect(formErrorTexts(tr, err, []).banner).toBe('Too many attempts. Try again in 42 seconds.');
    // From a minute on, in minutes (not "895 seconds").
    const long = new ApiError({ status: 429, code: 'rate_limited', message: 'x', retryAfter: 895 });
    expect(formErrorTexts(tr, long, []).banner).toBe('Too many attempts. Try again in 15 minutes.');
    const minute = new ApiError({ status: 429, code: 'rate_limited', message: 'x', retryAfter: 60 });
    expect(formErrorTexts(tr, minute, []).banner).toBe('Too many attempts. Try again in 1 minute.');
  });

  it('shows field errors without an input in the banner', () => {
    const err = new ApiError({
      status: 422,
      code: 'validation_failed',
      message: 'x',
      fields: { settings: { code: 'invalid_value', message: 'bad' } },
    });
    expect(formErrorTexts(tr, err, ['display_name']).banner).toBe(en.errors.invalid_value);
  });

  it('handles non-API errors', () => {
    expect(formErrorTexts(tr, new Error('boom'), []).banner).toBe(en.errors.unknown_error);
    expect(formErrorTexts(tr, null, [])).toEqual({ banner: null, fields: {} });
  });
});
