import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { MESSAGE_MAX_LENGTH } from '../../api/messages';
import type { Message } from '../../api/types';
import { chatActions } from '../../state/chat';
import { decodeMentions, encodeMentions } from './mentionComplete';
import { MentionSuggestions, useBoxMentions } from './MentionSuggestions';
import { useFormErrors } from '../useFormErrors';
import './composer.css';

const NO_FIELDS: readonly string[] = [];

interface MessageEditorProps {
  message: Message;
  onDone(): void;
  /** Saving an empty message: offer to delete it instead. */
  onEmpty(): void;
}

/** Edit in place: Enter saves, Shift+Enter adds a line, Escape cancels. */
export function MessageEditor({ message, onDone, onEmpty }: MessageEditorProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLTextAreaElement>(null);
  // Mentions read as @username and @Role here, as in the message box, and go back to ids on
  // save (a role the user may not mention stays <@&id>, so that saving keeps it).
  const { text, setText, names, roles, mentions, boxProps, setCaret } = useBoxMentions(ref, (n, r) =>
    decodeMentions(message.content, n.usernameOf, r.roleNameOf),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = useFormErrors(error, NO_FIELDS);

  useEffect(() => {
    const area = ref.current;
    if (!area) return;
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }, []);

  const wire = encodeMentions(text, names.idOf, roles.roles);
  const length = Array.from(wire).length;
  const tooLong = length > MESSAGE_MAX_LENGTH;

  async function save() {
    const content = wire.trim();
    if (tooLong) return;
    if (content === '') {
      onEmpty();
      return;
    }
    if (content === message.content.trim()) {
      onDone();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await chatActions.edit(message, content);
      onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (mentions.onKeyDown(event)) return;
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onDone();
    } else if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void save();
    }
  };

  return (
    <div className="message-editor" data-testid="message-editor">
      <MentionSuggestions mentions={mentions} />
      <textarea
        ref={ref}
        className="message-editor-input"
        value={text}
        onChange={(event) => {
          setText(event.target.value);
          setCaret(event.target.selectionStart);
        }}
        {...boxProps}
        onKeyDown={onKeyDown}
        rows={Math.min(10, text.split('\n').length)}
        aria-invalid={tooLong || undefined}
        aria-label={t('chat.edit.label')}
        disabled={busy}
        data-testid="edit-input"
      />
      <p className="message-editor-hint">
        <span className="message-editor-keys">{t('chat.edit.hint')}</span>{' '}
        <button type="button" className="chat-link-button" onClick={onDone}>
          {t('common.cancel')}
        </button>{' '}
        <button type="button" className="chat-link-button" onClick={() => void save()} disabled={busy || tooLong}>
          {t('chat.edit.save')}
        </button>
      </p>
      {tooLong && (
        <p className="chat-inline-error" role="alert" data-testid="edit-too-long">
          <span className="composer-counter-over">{MESSAGE_MAX_LENGTH - length}</span> {t('chat.errors.tooLong')}
        </p>
      )}
      {errors.banner && (
        <p className="chat-inline-error" role="alert">
          {errors.banner}
        </p>
      )}
    </div>
  );
}
