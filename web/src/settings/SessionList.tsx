import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Session } from '../api/types';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { FormAlert } from '../components/FormAlert';
import { DeviceIcon } from '../components/icons';
import { useFormErrors } from '../components/useFormErrors';
import { useAuth, useAuthActions } from '../state/context';
import { SettingsSection } from './SettingsSection';
import { describeUserAgent } from './userAgent';

const NO_FIELDS: readonly string[] = [];

function useDateFormat(): (iso: string) => string {
  const { i18n } = useTranslation();
  const format = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' });
  return (iso) => {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : format.format(date);
  };
}

/** The devices logged in to this account, with a Revoke button each. */
export function SessionList() {
  const { t } = useTranslation();
  /** "Firefox on Windows" from the session's User-Agent (the raw text in its tooltip). */
  const deviceName = (ua: string | null) => {
    const { browser, os } = describeUserAgent(ua);
    if (browser && os) return t('settings.sessions.browserOn', { browser, os });
    return browser ?? os ?? (ua || t('settings.sessions.unknownDevice'));
  };
  const { sessions } = useAuth();
  const { loadSessions, revokeSession, revokeOtherSessions } = useAuthActions();
  const [confirmOthers, setConfirmOthers] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [revoking, setRevoking] = useState<string | null>(null);
  const errors = useFormErrors(error, NO_FIELDS);
  const formatDate = useDateFormat();

  useEffect(() => {
    loadSessions().catch(setError);
  }, [loadSessions]);

  const [notice, setNotice] = useState<string | null>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const revokeButtons = () => [...(listRef.current?.querySelectorAll<HTMLElement>('.session-revoke') ?? [])];
  /** After a row goes (once drawn without it): the focus to the next row's button, else the page's heading. */
  const focusAfter = (index: number) =>
    setTimeout(() => {
      const buttons = revokeButtons();
      (buttons[Math.min(index, buttons.length - 1)] ?? document.querySelector<HTMLElement>('.settings-section-title'))?.focus();
    }, 0);

  async function revoke(session: Session) {
    setError(null);
    setNotice(null);
    setRevoking(session.id);
    const index = revokeButtons().findIndex((b) => b === document.activeElement);
    try {
      await revokeSession(session.id);
      setNotice(t('settings.sessions.revoked'));
      focusAfter(Math.max(index, 0));
    } catch (err) {
      setError(err);
    } finally {
      setRevoking(null);
    }
  }

  // This device first, as it is the one not to revoke; the others newest first.
  const shown = sessions && [...sessions.filter((s) => s.current), ...sessions.filter((s) => !s.current)];
  const others = shown?.filter((s) => !s.current).length ?? 0;

  return (
    <SettingsSection
      title={t('settings.sessions.title')}
      description={t('settings.sessions.description')}
      testId="settings-sessions"
    >
      <FormAlert message={errors.banner} />
      <FormAlert kind="success" message={notice} testId="session-notice" />
      {shown === null ? (
        !error && <p role="status">{t('settings.sessions.loading')}</p>
      ) : shown.length === 0 ? (
        <p>{t('settings.sessions.empty')}</p>
      ) : (
        <ul ref={listRef} className="session-list" data-testid="session-list">
          {shown.map((session) => (
            <li key={session.id} className="session" data-testid="session-item">
              <span className="session-icon">
                <DeviceIcon size={28} />
              </span>
              <div className="session-info">
                <p className="session-agent">
                  <span className="session-agent-text" id={`session-${session.id}`} title={session.user_agent ?? undefined}>
                    {deviceName(session.user_agent)}
                  </span>
                  {session.current && (
                    <span className="tag" data-testid="session-current">
                      {t('settings.sessions.thisDevice')}
                    </span>
                  )}
                </p>
                <dl className="session-meta">
                  <div>
                    <dt>{t('settings.sessions.ip')}</dt>
                    <dd>{session.ip || t('settings.sessions.unknownIp')}</dd>
                  </div>
                  <div>
                    <dt>{t('settings.sessions.created')}</dt>
                    <dd>
                      <time dateTime={session.created_at}>{formatDate(session.created_at)}</time>
                    </dd>
                  </div>
                  <div>
                    <dt>{t('settings.sessions.lastUsed')}</dt>
                    <dd>
                      <time dateTime={session.last_used_at}>{formatDate(session.last_used_at)}</time>
                    </dd>
                  </div>
                </dl>
              </div>
              {!session.current && (
                <button
                  type="button"
                  className="button button-danger-outline session-revoke"
                  onClick={() => void revoke(session)}
                  // Which device: every row's button reads the same.
                  aria-describedby={`session-${session.id}`}
                  disabled={revoking !== null}
                  data-testid="session-revoke"
                >
                  {revoking === session.id ? t('settings.sessions.revoking') : t('settings.sessions.revoke')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {others > 0 && (
        <button
          type="button"
          className="button button-danger-outline session-revoke-others"
          onClick={() => setConfirmOthers(true)}
          disabled={revoking !== null}
          data-testid="session-revoke-others"
        >
          {t('settings.sessions.revokeOthers')}
        </button>
      )}
      {confirmOthers && (
        <ConfirmDialog
          title={t('settings.sessions.revokeOthersTitle')}
          body={t('settings.sessions.revokeOthersBody', { count: others })}
          confirmLabel={t('settings.sessions.revokeOthersConfirm')}
          onClose={() => setConfirmOthers(false)}
          onConfirm={async () => {
            await revokeOtherSessions();
            setConfirmOthers(false);
            setNotice(t('settings.sessions.revokedOthers'));
            focusAfter(0);
          }}
          testId="revoke-others-dialog"
        />
      )}
    </SettingsSection>
  );
}
