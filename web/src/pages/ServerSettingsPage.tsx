import { useEffect, useState, type FormEvent } from 'react';
import { Link, NavLink, Navigate, Outlet, useNavigate, useParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import type { ServerDetail } from '../api/types';
import { FormAlert } from '../components/FormAlert';
import { FormField } from '../components/FormField';
import { GatewayBanner } from '../components/GatewayBanner';
import { CloseIcon } from '../components/icons';
import { TabGuard } from '../components/settings-server/common';
import { visibleTabs } from '../components/settings-server/tabs';
import { Splash } from '../components/Splash';
import { useFormErrors } from '../components/useFormErrors';
import { SettingsSection } from '../settings/SettingsSection';
import { useAuthActions, useServer, useServers } from '../state/context';
import { lastChannel } from '../state/lastChannel';
import { channelPath, serverPath, serverSettingsPath } from '../state/servers';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { usePageFocus } from '../components/usePageFocus';

/**
 * `/app/servers/:serverId/settings`: full-screen, like the user settings.
 * Each tab shows only with the permission its routes need (see settings-server/tabs.ts).
 */
export function ServerSettingsPage() {
  const { t } = useTranslation();
  const { serverId = '' } = useParams();
  const servers = useServers();
  const server = useServer(serverId);
  useDocumentTitle(server ? `${t('servers.menu.settings')} | ${server.name}` : t('servers.menu.settings'));
  usePageFocus('[data-testid="server-menu-trigger"]');
  const navigate = useNavigate();
  const last = lastChannel(serverId);
  const back = last ? channelPath(serverId, last) : serverPath(serverId);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      // Escape in a dialog (delete a role…) closes only the dialog.
      if (event.key === 'Escape' && !event.defaultPrevented && !document.querySelector('dialog[open]')) navigate(back);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate, back]);

  if (servers === null) return <Splash />;
  // Deleted, left, or never a member.
  if (!server) return <Navigate to="/app" replace />;
  const tabs = visibleTabs(server.me.permissions);
  if (tabs.length === 0) return <Navigate to={back} replace />;

  return (
    <div className="settings" data-testid="server-settings">
      <GatewayBanner floating />
      <nav className="settings-nav" aria-label={t('servers.settings.navLabel')}>
        <div className="settings-nav-inner">
          <h2 className="settings-nav-title" title={server.name}>
            {server.name}
          </h2>
          <ul>
            {tabs.map((tab) => (
              <li key={tab}>
                <NavLink
                  to={`${serverSettingsPath(server.id)}/${tab}`}
                  className="settings-nav-item"
                  data-testid={`settings-tab-${tab}`}
                >
                  {t(`serverSettings.tabs.${tab}`)}
                </NavLink>
              </li>
            ))}
          </ul>
        </div>
      </nav>
      <main className="settings-content" aria-label={t('servers.settings.title')}>
        <div className="settings-content-inner">
          <Outlet />
        </div>
        <div className="settings-close">
          <Link
            to={back}
            className="settings-close-button"
            aria-label={t('servers.settings.close')}
            title={t('servers.settings.close')}
            data-testid="close-server-settings"
          >
            <CloseIcon />
          </Link>
          <span className="settings-close-hint" aria-hidden="true">
            {t('settings.closeHint')}
          </span>
        </div>
      </main>
    </div>
  );
}

const FIELDS = ['name', 'description'] as const;
const orNull = (value: string): string | null => (value.trim() ? value.trim() : null);

/** Name and description → `PATCH /servers/{id}`. */
export function ServerOverview() {
  // The page checks that the server exists before rendering its tabs; the guard checks manage_server.
  return <TabGuard tab="overview">{(server) => <ServerOverviewForm key={server.id} server={server} />}</TabGuard>;
}

function ServerOverviewForm({ server }: { server: ServerDetail }) {
  const { t } = useTranslation();
  const { updateServer } = useAuthActions();
  const [name, setName] = useState(server.name);
  const [description, setDescription] = useState(server.description ?? '');
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = useFormErrors(error, FIELDS);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const updated = await updateServer(server.id, { name, description: orNull(description) });
      setName(updated.name);
      setDescription(updated.description ?? '');
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <SettingsSection
      title={t('servers.settings.overview.title')}
      description={t('servers.settings.overview.description')}
      testId="server-settings-overview"
    >
      <form className="form form-narrow" onSubmit={onSubmit} noValidate data-testid="server-overview-form">
        <FormAlert message={errors.banner} />
        <FormField
          name="name"
          label={t('servers.settings.overview.name')}
          value={name}
          onChange={(value) => {
            setSaved(false);
            setName(value);
          }}
          error={errors.fields.name}
          maxLength={100}
          required
        />
        <FormField
          name="description"
          label={t('servers.settings.overview.descriptionLabel')}
          value={description}
          onChange={(value) => {
            setSaved(false);
            setDescription(value);
          }}
          error={errors.fields.description}
          hint={t('servers.settings.overview.descriptionHint')}
          maxLength={1024}
          multiline
        />
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy} data-testid="server-overview-save">
            {busy ? t('common.saving') : t('common.save')}
          </button>
          <FormAlert
            kind="success"
            message={saved ? t('servers.settings.overview.saved') : null}
            testId="server-overview-saved"
          />
        </div>
      </form>
    </SettingsSection>
  );
}
