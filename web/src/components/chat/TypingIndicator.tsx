import { useEffect, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { chatActions, useChat } from '../../state/chat';
import { nextTypingExpiry, typingUsers } from '../../state/typing';
import { memberName } from '../../state/userDirectory';
import { useNow } from './useNow';
import './composer.css';

interface TypingIndicatorProps {
  serverId: string;
  channelId: string;
  meId: string;
}

/** "X is typing…" under the composer, for 8 s after each typing.started (never ourselves). */
export function TypingIndicator({ serverId, channelId, meId }: TypingIndicatorProps) {
  const { t } = useTranslation();
  const typing = useChat((s) => s.typing[channelId]);
  const directory = useChat((s) => s.directory);
  const anyone = typing !== undefined && nextTypingExpiry({ [channelId]: typing }, channelId, Date.now()) !== null;
  const now = useNow(anyone, 1000);
  const users = useMemo(
    () => (typing ? typingUsers({ [channelId]: typing }, channelId, now, meId) : []),
    [typing, channelId, now, meId],
  );
  const names = users.map((id) => {
    const r = memberName(directory, serverId, id);
    return r.status === 'known' ? r.name : t('chat.mention.unknownUser');
  });
  const unknown = users.filter((id) => memberName(directory, serverId, id).status === 'unknown');
  const unknownKey = unknown.join(',');

  useEffect(() => {
    for (const id of unknownKey ? unknownKey.split(',') : []) void chatActions.lookupMember(serverId, id);
  }, [unknownKey, serverId]);

  let text = '';
  if (names.length === 1) text = t('chat.typing.one', { name: names[0] });
  else if (names.length === 2) text = t('chat.typing.two', { first: names[0], second: names[1] });
  else if (names.length === 3) text = t('chat.typing.three', { first: names[0], second: names[1], third: names[2] });
  else if (names.length > 3) text = t('chat.typing.several');

  return (
    <div className="typing-area" aria-live="polite">
      {text && (
        <span className="typing-indicator" data-testid="typing-indicator">
          <span className="typing-dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          {text}
        </span>
      )}
    </div>
  );
}
