import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { Navigate, useParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { actorOf, type Actor } from '../../api/hierarchy';
import type { ServerDetail } from '../../api/types';
import { useCurrentUser, useServer } from '../../state/context';
import { serverSettingsPath } from '../../state/servers';
import { canOpenTab, visibleTabs, type ServerSettingsTab } from './tabs';
import './settings.css';

interface TabGuardProps {
  tab: ServerSettingsTab;
  children(server: ServerDetail, actor: Actor): ReactNode;
}

/**
 * Renders a settings tab for users with its permission; others go to the first
 * tab they may open (the page itself leaves when there is none).
 */
export function TabGuard({ tab, children }: TabGuardProps) {
  const { serverId = '' } = useParams();
  const server = useServer(serverId);
  const me = useCurrentUser();
  if (!server) return null;
  if (!canOpenTab(server.me.permissions, tab)) {
    const first = visibleTabs(server.me.permissions)[0];
    return first ? <Navigate to={`${serverSettingsPath(server.id)}/${first}`} replace /> : null;
  }
  return <>{children(server, actorOf(server, me.id))}</>;
}

export type Loaded<T> =
  | { status: 'loading'; data: null; error: null }
  | { status: 'ready'; data: T; error: null }
  | { status: 'error'; data: null; error: unknown };

/** Runs `load` on mount (and when `key` changes); `reload()` runs it again; `update()` edits the data. */
export function useLoaded<T>(load: () => Promise<T>, key: string) {
  const [state, setState] = useState<Loaded<T>>({ status: 'loading', data: null, error: null });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let cancelled = false;
    setState({ status: 'loading', data: null, error: null });
    load().then(
      (data) => !cancelled && setState({ status: 'ready', data, error: null }),
      (error: unknown) => !cancelled && setState({ status: 'error', data: null, error }),
    );
    return () => {
      cancelled = true;
    };
    // `load` is a new function every render; `key` says when it means something else.
  }, [key, attempt]);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  const update = useCallback(
    (fn: (data: T) => T) => setState((s) => (s.status === 'ready' ? { ...s, data: fn(s.data) } : s)),
    [],
  );
  return { state, reload, update };
}

/** Loading / error (with retry) / empty placeholders of a settings list. */
export function ListStatus({
  loading,
  error,
  empty,
  emptyText,
  onRetry,
}: {
  loading: boolean;
  error: string | null;
  empty: boolean;
  emptyText: string;
  onRetry(): void;
}) {
  const { t } = useTranslation();
  if (loading) return <p className="settings-list-note">{t('app.loading')}</p>;
  if (error) {
    return (
      <div className="settings-list-note" role="alert">
        <p>{error}</p>
        <button type="button" className="button button-secondary" onClick={onRetry}>
          {t('app.retry')}
        </button>
      </div>
    );
  }
  if (empty) return <p className="settings-list-note">{emptyText}</p>;
  return null;
}

/** `Intl` date + time in the UI language. */
export function useFormatDateTime(): (value: string | null | undefined) => string {
  const { i18n } = useTranslation();
  return useCallback(
    (value) => {
      const ms = value ? Date.parse(value) : NaN;
      return Number.isFinite(ms)
        ? new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' }).format(ms)
        : '—';
    },
    [i18n.language],
  );
}
