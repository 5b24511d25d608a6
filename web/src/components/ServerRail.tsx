import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { lastChannel } from '../state/lastChannel';
import { useServers } from '../state/context';
import { channelPath, serverInitials, serverPath } from '../state/servers';
import { PapoLogo, PlusIcon } from './icons';
import { JoinServerButton } from './invites/JoinServer';
import { ServerUnread } from './chat/UnreadBadges';
import { useShell } from './shell';

/** The far-left column: home, one round icon per server, and "+" to create one. */
export function ServerRail({ activeServerId }: { activeServerId: string | null }) {
  const { t } = useTranslation();
  const servers = useServers() ?? [];
  const { openCreateServer } = useShell();
  const home = activeServerId === null;
  return (
    <nav className="server-rail" aria-label={t('shell.servers')} data-testid="server-rail">
      <div className={home ? 'rail-item rail-item-active' : 'rail-item'}>
        <Link
          to="/app"
          className={home ? 'rail-button rail-home rail-active' : 'rail-button rail-home'}
          aria-current={home ? 'page' : undefined}
          aria-label={t('shell.home')}
          title={t('shell.home')}
        >
          <PapoLogo size={28} />
        </Link>
      </div>
      <div className="rail-separator" role="separator" />
      <ul className="rail-servers" aria-label={t('shell.servers')}>
        {servers.map((server) => {
          const active = server.id === activeServerId;
          const last = lastChannel(server.id);
          const to =
            last && server.channels.some((c) => c.id === last) ? channelPath(server.id, last) : serverPath(server.id);
          return (
            <li key={server.id} className={active ? 'rail-item rail-item-active' : 'rail-item'}>
              <Link
                to={to}
                className={active ? 'rail-button rail-server rail-active' : 'rail-button rail-server'}
                aria-current={active ? 'page' : undefined}
                aria-label={server.name}
                aria-describedby={`server-unread-${server.id}`}
                title={server.name}
                data-testid="rail-server"
                data-server-id={server.id}
              >
                <span className="rail-initials" aria-hidden="true">
                  {serverInitials(server.name)}
                </span>
              </Link>
              <ServerUnread server={server} active={active} describedBy={`server-unread-${server.id}`} />
            </li>
          );
        })}
      </ul>
      <div className="rail-item">
        <button
          type="button"
          className="rail-button rail-add"
          onClick={openCreateServer}
          aria-label={t('shell.addServer')}
          title={t('shell.addServer')}
          data-testid="add-server"
        >
          <PlusIcon size={22} />
        </button>
      </div>
      <JoinServerButton />
    </nav>
  );
}
