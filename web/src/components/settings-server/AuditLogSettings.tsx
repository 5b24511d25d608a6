import { useEffect, useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { auditLogApi } from '../../api';
import type { AuditLogEntry, PublicUser, ServerDetail } from '../../api/types';
import {
  AUDIT_ACTIONS,
  AUDIT_KINDS,
  AUDIT_PAGE_SIZE,
  describeAuditEntry,
  formerNames,
  isAuditField,
  mergeAuditPages,
  type AuditLookups,
  type AuditWords,
} from '../../state/auditLog';
import { SettingsSection } from '../../settings/SettingsSection';
import { useFormErrors } from '../useFormErrors';
import { ListStatus, TabGuard, useFormatDateTime } from './common';

const NO_FIELDS: readonly string[] = [];

/** `…/settings/audit-log`: who did what, newest first, filtered by action, paged with `before`. */
export function ServerAuditLog() {
  return <TabGuard tab="audit-log">{(server) => <AuditLogTab server={server} />}</TabGuard>;
}

interface LogState {
  entries: AuditLogEntry[];
  users: Map<string, PublicUser>;
  /** The last page was full: there may be older entries. */
  more: boolean;
}

function AuditLogTab({ server }: { server: ServerDetail }) {
  const { t } = useTranslation();
  const formatDate = useFormatDateTime();
  const filterId = useId();
  const [action, setAction] = useState('');
  const [log, setLog] = useState<LogState>({ entries: [], users: new Map(), more: false });
  const [status, setStatus] = useState<'loading' | 'ready' | 'error' | 'more'>('loading');
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const errorText = useFormErrors(error, NO_FIELDS).banner;

  const loadPage = async (before: string | undefined) => {
    const page = await auditLogApi.list(server.id, {
      limit: AUDIT_PAGE_SIZE,
      ...(before ? { before } : {}),
      ...(action ? { action } : {}),
    });
    return { entries: Array.isArray(page?.entries) ? page.entries : [], users: Array.isArray(page?.users) ? page.users : [] };
  };

  useEffect(() => {
    let cancelled = false;
    setStatus('loading');
    setError(null);
    loadPage(undefined).then(
      ({ entries, users }) => {
        if (cancelled) return;
        setLog({ entries, users: new Map(users.map((u) => [u.id, u])), more: entries.length >= AUDIT_PAGE_SIZE });
        setStatus('ready');
      },
      (err: unknown) => {
        if (cancelled) return;
        setError(err);
        setStatus('error');
      },
    );
    return () => {
      cancelled = true;
    };
    // loadPage reads `action` and `server.id`, both in the deps.
  }, [server.id, action, attempt]);

  const loadMore = async () => {
    const last = log.entries[log.entries.length - 1];
    if (!last || status !== 'ready') return;
    setStatus('more');
    try {
      const { entries, users } = await loadPage(last.id);
      setLog((current) => {
        const merged = new Map(current.users);
        for (const u of users) merged.set(u.id, u);
        return { entries: mergeAuditPages(current.entries, entries), users: merged, more: entries.length >= AUDIT_PAGE_SIZE };
      });
      setStatus('ready');
    } catch (err) {
      setError(err);
      setStatus('ready');
    }
  };

  const lookups: AuditLookups = useMemo(
    () => ({ users: log.users, roles: server.roles, channels: server.channels, formerNames: formerNames(log.entries) }),
    [log.users, server.roles, server.channels],
  );
  const words: AuditWords = useMemo(
    () => ({
      none: t('serverSettings.audit.values.none'),
      yes: t('serverSettings.audit.values.yes'),
      no: t('serverSettings.audit.values.no'),
      permission: (name) => t(`permissions.names.${name}`),
      kind: (kind) => (AUDIT_KINDS.includes(kind) ? t(`serverSettings.audit.values.${kind}`) : kind),
      dateTime: (iso) => formatDate(iso),
      duration: (unit, count) => t(`serverSettings.audit.values.${unit}`, { count }),
      never: t('serverSettings.audit.values.never'),
      off: t('serverSettings.audit.values.off'),
      unlimited: t('serverSettings.audit.values.unlimited'),
      openMessage: t('serverSettings.audit.values.openMessage'),
    }),
    [t, formatDate],
  );

  return (
    <SettingsSection
      title={t('serverSettings.audit.title')}
      description={t('serverSettings.audit.description')}
      testId="server-settings-audit-log"
    >
      <div className="field form-narrow">
        <label className="field-label" htmlFor={filterId}>
          {t('serverSettings.audit.filter')}
        </label>
        <select id={filterId} className="input" value={action} onChange={(e) => setAction(e.target.value)} data-testid="audit-filter">
          <option value="">{t('serverSettings.audit.allActions')}</option>
          {AUDIT_ACTIONS.map((a) => (
            <option key={a} value={a}>
              {t(`serverSettings.audit.actionNames.${a}`)}
            </option>
          ))}
        </select>
      </div>
      <ListStatus
        loading={status === 'loading'}
        error={status === 'error' ? errorText : null}
        empty={status === 'ready' && log.entries.length === 0}
        emptyText={t('serverSettings.audit.empty')}
        onRetry={() => setAttempt((n) => n + 1)}
      />
      {status !== 'loading' && status !== 'error' && (
        <ol className="settings-rows audit-list">
          {log.entries.map((entry) => {
            const sentence = describeAuditEntry(entry, lookups, words);
            const params = {
              actor: sentence.actor ?? t('serverSettings.audit.someone'),
              target: sentence.target ?? t('serverSettings.audit.something'),
              action: entry.action,
            };
            return (
              <li key={entry.id} className="settings-row audit-entry" data-testid="audit-entry" data-action={entry.action}>
                <div className="settings-row-text">
                  <span className="settings-row-title">
                    {t(`serverSettings.audit.actions.${sentence.action}`, params)}
                    {sentence.reason && (
                      <span className="audit-reason"> — {t('serverSettings.audit.reason', { reason: sentence.reason })}</span>
                    )}
                  </span>
                  <time className="settings-muted" dateTime={entry.created_at}>
                    {formatDate(entry.created_at)}
                  </time>
                  {sentence.changes.length > 0 && (
                    <ul className="audit-changes">
                      {sentence.changes.map((change) => (
                        <li key={change.key}>
                          <span className="audit-change-key">
                            {isAuditField(change.key) ? t(`serverSettings.audit.fields.${change.key}`) : change.key}
                          </span>
                          :{' '}
                          {change.message ? (
                            <Link
                              to={`/app/servers/${server.id}/channels/${change.message.channelId}?message=${change.message.messageId}`}
                              data-testid="audit-message-link"
                            >
                              {change.value}
                            </Link>
                          ) : (
                            change.value
                          )}
                        </li>
                      ))}
                    </ul>
                  )}
                </div>
              </li>
            );
          })}
        </ol>
      )}
      {status === 'ready' && error !== null && log.entries.length > 0 && <p className="field-error">{errorText}</p>}
      {(status === 'ready' || status === 'more') && log.more && (
        <button
          type="button"
          className="button button-secondary"
          onClick={() => void loadMore()}
          disabled={status === 'more'}
          data-testid="audit-more"
        >
          {status === 'more' ? t('app.loading') : t('serverSettings.audit.more')}
        </button>
      )}
    </SettingsSection>
  );
}
