import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors';
import type { Translator } from '../../i18n/errors';
import { sendErrorOf } from '../../state/chatActions';
import { chatErrorText, cooldownSeconds } from './chatErrors';

/** Echoes the key and its options, and knows every key. */
const tr: Translator = {
  t: (key, options) => (options ? `${key} ${JSON.stringify(options)}` : key),
  exists: () => true,
};

describe('chat errors', () => {
  it('shows slowmode and rate limits with the seconds to wait', () => {
    const slow = new ApiError({ status: 429, code: 'slowmode', message: '', retryAfter: 12 });
    expect(chatErrorText(tr, slow)).toBe('chat.errors.slowmodeRetry {"seconds":12}');
    expect(cooldownSeconds(slow)).toBe(12);
    const limited = { status: 429, code: 'rate_limited', message: '', retryAfter: 3 };
    expect(chatErrorText(tr, limited)).toBe('chat.errors.rateLimitedRetry {"seconds":3}');
    expect(cooldownSeconds(limited)).toBe(3);
    expect(chatErrorText(tr, { status: 429, code: 'slowmode', message: '', retryAfter: null })).toBe('chat.errors.slowmode');
  });

  it('has no cooldown for other errors', () => {
    expect(cooldownSeconds(new ApiError({ status: 403, code: 'forbidden', message: '' }))).toBeNull();
    expect(cooldownSeconds(new Error('x'))).toBeNull();
  });

  it('names chat-specific failures', () => {
    expect(chatErrorText(tr, new ApiError({ status: 409, code: 'too_many_pins', message: '' }))).toBe('chat.errors.tooManyPins');
    expect(chatErrorText(tr, new ApiError({ status: 403, code: 'forbidden', message: '' }))).toBe('chat.errors.forbidden');
    const reply = new ApiError({ status: 422, code: 'validation_failed', message: '', fields: { reply_to: { code: 'invalid_value', message: '' } } });
    expect(chatErrorText(tr, reply)).toBe('chat.errors.replyGone');
    const control = new ApiError({ status: 422, code: 'validation_failed', message: '', fields: { content: { code: 'invalid_value', message: '' } } });
    expect(chatErrorText(tr, control)).toBe('chat.errors.controlCharacter');
    // A failed send keeps the fields' codes, so its text names the field's fault too.
    expect(chatErrorText(tr, sendErrorOf(control))).toBe('chat.errors.controlCharacter');
    expect(sendErrorOf(new ApiError({ status: 403, code: 'forbidden', message: '' })).fields).toBeUndefined();
    expect(chatErrorText(tr, new ApiError({ status: 0, code: 'network_error', message: '' }))).toBe('errors.network_error');
    expect(chatErrorText(tr, 'weird')).toBe('errors.unknown_error');
  });
});
