import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { bansApi } from '../../api';
import type { Ban, ServerDetail } from '../../api/types';
import { SettingsSection } from '../../settings/SettingsSection';
import { Avatar, displayNameOf } from '../Avatar';
import { FormAlert } from '../FormAlert';
import { useFormErrors } from '../useFormErrors';
import { ListStatus, TabGuard, useFormatDateTime, useLoaded } from './common';

const NO_FIELDS: readonly string[] = [];

/** `…/settings/bans`: banned users, with the reason; unban. */
export function ServerBansSettings() {
  return <TabGuard tab="bans">{(server) => <BansTab server={server} />}</TabGuard>;
}

function BansTab({ server }: { server: ServerDetail }) {
  const { t } = useTranslation();
  const { state, reload, update } = useLoaded(() => bansApi.list(server.id), server.id);
  const formatDate = useFormatDateTime();
  const [query, setQuery] = useState('');
  const [unbanning, setUnbanning] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const errors = useFormErrors(error, NO_FIELDS);
  const loadError = useFormErrors(state.error, NO_FIELDS).banner;
  const searchId = useId();
  const bans = state.data ?? [];
  const q = query.trim().toLowerCase();
  const shown = q
    ? bans.filter((b) => [b.user.username, displayNameOf(b.user), b.user.id].some((s) => s.toLowerCase().includes(q)))
    : bans;

  const unban = async (ban: Ban) => {
    if (unbanning) return;
    setUnbanning(ban.user.id);
    setError(null);
    try {
      await bansApi.unban(server.id, ban.user.id);
      update((list) => list.filter((b) => b.user.id !== ban.user.id));
    } catch (err) {
      setError(err);
    } finally {
      setUnbanning(null);
    }
  };

  return (
    <SettingsSection
      title={t('serverSettings.bans.title')}
      description={t('serverSettings.bans.description')}
      testId="server-settings-bans"
    >
      {bans.length > 0 && (
        <div className="field form-narrow">
          <label className="field-label" htmlFor={searchId}>
            {t('serverSettings.bans.search')}
          </label>
          <input
            id={searchId}
            className="input"
            type="search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            autoComplete="off"
            data-testid="ban-search"
          />
        </div>
      )}
      <FormAlert message={errors.banner} />
      <ListStatus
        loading={state.status === 'loading'}
        error={state.status === 'error' ? loadError : null}
        empty={state.status === 'ready' && shown.length === 0}
        emptyText={q ? t('serverSettings.bans.noMatch') : t('serverSettings.bans.empty')}
        onRetry={reload}
      />
      <ul className="settings-rows">
        {shown.map((ban) => (
          <li key={ban.user.id} className="settings-row" data-testid="ban-row" data-user-id={ban.user.id}>
            <Avatar user={ban.user} size={40} />
            <div className="settings-row-text">
              <span className="settings-row-title">{displayNameOf(ban.user)}</span>
              <span className="settings-muted">
                {ban.user.username} · {t('serverSettings.bans.bannedOn', { date: formatDate(ban.created_at) })}
              </span>
              <span className="settings-row-detail">
                {ban.reason ? t('serverSettings.bans.reason', { reason: ban.reason }) : t('serverSettings.bans.noReason')}
              </span>
            </div>
            <button
              type="button"
              className="button button-secondary button-small"
              onClick={() => void unban(ban)}
              disabled={unbanning !== null}
              data-testid="unban-button"
            >
              {unbanning === ban.user.id ? t('serverSettings.bans.unbanning') : t('serverSettings.bans.unban')}
            </button>
          </li>
        ))}
      </ul>
    </SettingsSection>
  );
}
