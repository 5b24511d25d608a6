// Texts for what can go wrong in the chat (sending, reacting, pinning…).

import { isApiError } from '../../api/errors';
import { errorCodeText, type Translator } from '../../i18n/errors';
import type { SendError } from '../../state/messages';

interface ErrorShape {
  code: string;
  message: string;
  retryAfter: number | null;
  fields: Record<string, { code: string }>;
}

function shapeOf(error: unknown): ErrorShape | null {
  if (isApiError(error)) return { code: error.code, message: error.message, retryAfter: error.retryAfter, fields: error.fields };
  if (typeof error === 'object' && error !== null && typeof (error as SendError).code === 'string') {
    const e = error as SendError;
    return { code: e.code, message: e.message, retryAfter: e.retryAfter, fields: e.fields ?? {} };
  }
  return null;
}

/** Seconds to wait before sending again, when the error says so (slowmode, rate_limited). */
export function cooldownSeconds(error: unknown): number | null {
  const e = shapeOf(error);
  if (!e || (e.code !== 'slowmode' && e.code !== 'rate_limited')) return null;
  return e.retryAfter;
}

export function chatErrorText(tr: Translator, error: unknown): string {
  const e = shapeOf(error);
  if (!e) return tr.t('errors.unknown_error');
  switch (e.code) {
    case 'slowmode':
      return e.retryAfter !== null
        ? tr.t('chat.errors.slowmodeRetry', { seconds: e.retryAfter })
        : tr.t('chat.errors.slowmode');
    case 'rate_limited':
      return e.retryAfter !== null
        ? tr.t('chat.errors.rateLimitedRetry', { seconds: e.retryAfter })
        : tr.t('chat.errors.rateLimited');
    case 'too_many_pins':
      return tr.t('chat.errors.tooManyPins');
    case 'forbidden':
      return tr.t('chat.errors.forbidden');
    case 'validation_failed':
      if (e.fields.reply_to) return tr.t('chat.errors.replyGone');
      if (e.fields.content?.code === 'too_long') return tr.t('chat.errors.tooLong');
      if (e.fields.content?.code === 'invalid_value') return tr.t('chat.errors.controlCharacter');
      if (e.fields.emoji) return tr.t('chat.errors.badEmoji');
      return errorCodeText(tr, e.code, e.message);
    default:
      return errorCodeText(tr, e.code, e.message);
  }
}
