import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { Link, useMatch, useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { has } from '../api/permissions';
import type { Channel, ChannelKind, ServerDetail } from '../api/types';
import { loadCollapsed, saveCollapsed, toggled } from '../state/collapsed';
import { useAuthActions, useCurrentUser, useServer } from '../state/context';
import { channelPath, groupChannels, serverSettingsPath, type ChannelGroup } from '../state/servers';
import { CreateChannelDialog, EditChannelDialog } from './ChannelDialogs';
import { ConfirmDialog } from './ConfirmDialog';
import { MentionBadge, UnreadDot } from './chat/UnreadBadges';
import { useChannelUnread } from '../state/chat';
import { UserPlusIcon } from './communityIcons';
import { InviteDialog } from './invites/InviteDialog';
import { canOpenServerSettings } from './settings-server/tabs';
import { ChevronDownIcon, CloseIcon, DoorIcon, GearIcon, HashIcon, PlusIcon, SpeakerIcon, TrashIcon } from './icons';

function browserStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** Collapsed channel groups of a server, remembered in localStorage (mount once per server). */
function useCollapsed(serverId: string): [ReadonlySet<string>, (key: string) => void] {
  const [collapsed, setCollapsed] = useState(() => loadCollapsed(browserStorage(), serverId));
  const toggle = useCallback(
    (key: string) => {
      setCollapsed((current) => {
        const next = toggled(current, key);
        saveCollapsed(browserStorage(), serverId, next);
        return next;
      });
    },
    [serverId],
  );
  return [collapsed, toggle];
}

type SidebarDialog =
  | { kind: 'create'; channelKind: ChannelKind; parentId: string | null }
  | { kind: 'edit'; channelId: string }
  | { kind: 'leave' }
  | { kind: 'delete' }
  | { kind: 'invite' };

interface ChannelSidebarProps {
  serverId: string;
  onClose(): void;
}

/** A server's channel list: name + menu on top, then the channel groups. Keyed by server id. */
export function ChannelSidebar({ serverId, onClose }: ChannelSidebarProps) {
  const { t } = useTranslation();
  const server = useServer(serverId);
  const user = useCurrentUser();
  const navigate = useNavigate();
  const { leaveServer, deleteServer } = useAuthActions();
  const [dialog, setDialog] = useState<SidebarDialog | null>(null);
  const [collapsed, toggleCollapsed] = useCollapsed(serverId);
  const channelMatch = useMatch('/app/servers/:serverId/channels/:channelId');
  const openChannelId = channelMatch?.params.channelId ?? null;

  if (!server) {
    return (
      <aside className="sidebar" aria-label={t('servers.sidebarLabel')} id="sidebar" aria-busy="true">
        <header className="sidebar-header">
          <span className="sidebar-title">{t('app.loading')}</span>
        </header>
      </aside>
    );
  }

  const perms = server.me.permissions;
  const canManageChannels = has(perms, 'manage_channels');
  const isOwner = server.owner_id === user.id;
  const groups = groupChannels(server.channels);
  const editing = dialog?.kind === 'edit' ? server.channels.find((c) => c.id === dialog.channelId) : undefined;

  return (
    <aside className="sidebar" aria-label={t('servers.sidebarLabel')} id="sidebar" data-testid="channel-sidebar">
      <header className="sidebar-header server-header">
        <ServerMenu
          server={server}
          isOwner={isOwner}
          onSettings={() => navigate(serverSettingsPath(server.id))}
          onCreateChannel={() => setDialog({ kind: 'create', channelKind: 'text', parentId: null })}
          onLeave={() => setDialog({ kind: 'leave' })}
          onDelete={() => setDialog({ kind: 'delete' })}
          onInvite={() => setDialog({ kind: 'invite' })}
        />
        {has(perms, 'create_invites') && (
          <button
            type="button"
            className="icon-button"
            onClick={() => setDialog({ kind: 'invite' })}
            aria-label={t('invites.dialog.open')}
            title={t('invites.dialog.open')}
            data-testid="invite-button"
          >
            <UserPlusIcon size={18} />
          </button>
        )}
        {canManageChannels && (
          <button
            type="button"
            className="icon-button"
            onClick={() => setDialog({ kind: 'create', channelKind: 'text', parentId: null })}
            aria-label={t('channels.create.title')}
            title={t('channels.create.title')}
            data-testid="create-channel"
          >
            <PlusIcon size={18} />
          </button>
        )}
        <button type="button" className="icon-button sidebar-close" onClick={onClose} aria-label={t('shell.closeMenu')}>
          <CloseIcon />
        </button>
      </header>
      <nav className="channel-list" aria-label={t('channels.listLabel', { name: server.name })}>
        {groups.length === 0 && <p className="sidebar-empty">{t('servers.noChannels')}</p>}
        {groups.map((group) => (
          <ChannelGroupView
            key={group.key}
            group={group}
            serverId={server.id}
            openChannelId={openChannelId}
            collapsed={collapsed.has(group.key)}
            onToggle={() => toggleCollapsed(group.key)}
            canManage={canManageChannels}
            onCreate={() =>
              setDialog({ kind: 'create', channelKind: 'text', parentId: group.category?.id ?? null })
            }
            onEdit={(channel) => setDialog({ kind: 'edit', channelId: channel.id })}
          />
        ))}
      </nav>

      {dialog?.kind === 'create' && (
        <CreateChannelDialog
          server={server}
          initialKind={dialog.channelKind}
          initialParentId={dialog.parentId}
          onClose={() => setDialog(null)}
          onCreated={(channel) => {
            setDialog(null);
            if (channel.kind !== 'category') navigate(channelPath(server.id, channel.id));
          }}
        />
      )}
      {dialog?.kind === 'edit' && editing && (
        <EditChannelDialog channel={editing} onClose={() => setDialog(null)} />
      )}
      {dialog?.kind === 'invite' && <InviteDialog server={server} onClose={() => setDialog(null)} />}
      {dialog?.kind === 'leave' && (
        <ConfirmDialog
          title={t('servers.leave.title', { name: server.name })}
          body={t('servers.leave.body', { name: server.name })}
          confirmLabel={t('servers.leave.confirm')}
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await leaveServer(server.id);
            setDialog(null);
            navigate('/app', { replace: true });
          }}
          testId="leave-server-dialog"
        />
      )}
      {dialog?.kind === 'delete' && (
        <ConfirmDialog
          title={t('servers.delete.title', { name: server.name })}
          body={t('servers.delete.body', { name: server.name })}
          confirmLabel={t('servers.delete.confirm')}
          requireText={{ value: server.name, label: t('servers.delete.typeName') }}
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await deleteServer(server.id);
            setDialog(null);
            navigate('/app', { replace: true });
          }}
          testId="delete-server-dialog"
        />
      )}
    </aside>
  );
}

interface ChannelGroupViewProps {
  group: ChannelGroup;
  serverId: string;
  openChannelId: string | null;
  collapsed: boolean;
  onToggle(): void;
  canManage: boolean;
  onCreate(): void;
  onEdit(channel: Channel): void;
}

function ChannelGroupView({
  group,
  serverId,
  openChannelId,
  collapsed,
  onToggle,
  canManage,
  onCreate,
  onEdit,
}: ChannelGroupViewProps) {
  const { t } = useTranslation();
  const listId = useId();
  const name = group.category
    ? group.category.name
    : group.kind === 'voice'
      ? t('channels.voiceChannels')
      : t('channels.textChannels');
  // A collapsed group still shows the open channel, as in Discord.
  const shown = collapsed ? group.channels.filter((c) => c.id === openChannelId) : group.channels;
  return (
    <section className="channel-group" data-testid="channel-group" data-group={group.key}>
      <div className="channel-group-header">
        <button
          type="button"
          className="channel-group-toggle"
          aria-expanded={!collapsed}
          aria-controls={listId}
          onClick={onToggle}
          data-testid="channel-group-toggle"
        >
          <span className={collapsed ? 'chevron chevron-collapsed' : 'chevron'}>
            <ChevronDownIcon size={12} />
          </span>
          <span className="channel-group-name">{name}</span>
        </button>
        {canManage && group.category && (
          <button
            type="button"
            className="icon-button channel-group-add"
            onClick={onCreate}
            aria-label={t('channels.createIn', { name })}
            title={t('channels.create.title')}
            data-testid="create-channel-in-category"
          >
            <PlusIcon size={16} />
          </button>
        )}
        {canManage && group.category && (
          <button
            type="button"
            className="icon-button channel-group-add"
            onClick={() => group.category && onEdit(group.category)}
            aria-label={t('channels.edit.openCategory', { name })}
            title={t('channels.edit.title')}
          >
            <GearIcon size={14} />
          </button>
        )}
      </div>
      <ul className="channel-items" id={listId}>
        {shown.map((channel) => (
          <ChannelRow
            key={channel.id}
            channel={channel}
            serverId={serverId}
            active={channel.id === openChannelId}
            canManage={canManage}
            onEdit={() => onEdit(channel)}
          />
        ))}
      </ul>
    </section>
  );
}

interface ChannelRowProps {
  channel: Channel;
  serverId: string;
  active: boolean;
  canManage: boolean;
  onEdit(): void;
}

function ChannelRow({ channel, serverId, active, canManage, onEdit }: ChannelRowProps) {
  const { t } = useTranslation();
  const voice = channel.kind === 'voice';
  const { unread, mentions } = useChannelUnread(channel);
  const badgeId = useId();
  const showUnread = unread && !active;
  return (
    <li className={`${active ? 'channel-row channel-row-active' : 'channel-row'}${showUnread ? ' channel-row-unread' : ''}`}>
      {showUnread && <UnreadDot channelId={channel.id} />}
      <Link
        to={channelPath(serverId, channel.id)}
        className="channel-link"
        aria-current={active ? 'page' : undefined}
        aria-label={t(voice ? 'channels.voiceLabel' : 'channels.textLabel', { name: channel.name })}
        aria-describedby={mentions > 0 ? badgeId : undefined}
        data-testid="channel-link"
        data-channel-id={channel.id}
        data-channel-name={channel.name}
        data-kind={channel.kind}
      >
        <span className="channel-icon">{voice ? <SpeakerIcon size={18} /> : <HashIcon size={18} />}</span>
        <span className="channel-name" title={channel.name}>
          {channel.name}
        </span>
        <MentionBadge count={mentions} id={badgeId} />
      </Link>
      {canManage && (
        <button
          type="button"
          className="icon-button channel-edit"
          onClick={onEdit}
          aria-label={t('channels.edit.open', { name: channel.name })}
          title={t('channels.edit.title')}
          data-testid="edit-channel"
        >
          <GearIcon size={14} />
        </button>
      )}
    </li>
  );
}

interface ServerMenuProps {
  server: ServerDetail;
  isOwner: boolean;
  onSettings(): void;
  onInvite(): void;
  onCreateChannel(): void;
  onLeave(): void;
  onDelete(): void;
}

/** The server name at the top of the sidebar, opening the server's menu. */
function ServerMenu({ server, isOwner, onSettings, onInvite, onCreateChannel, onLeave, onDelete }: ServerMenuProps) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const triggerRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  // Any settings tab (roles, bans, audit log…), not only the overview.
  const canManageServer = canOpenServerSettings(server.me.permissions);
  const canInvite = has(server.me.permissions, 'create_invites');
  const canManageChannels = has(server.me.permissions, 'manage_channels');

  useEffect(() => {
    if (!open) return;
    const menu = menuRef.current;
    menu?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Node | null;
      if (target && (menu?.contains(target) || triggerRef.current?.contains(target))) return;
      setOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [open]);

  const close = (focusTrigger: boolean) => {
    setOpen(false);
    if (focusTrigger) triggerRef.current?.focus();
  };

  const onKeyDown = (event: ReactKeyboardEvent<HTMLDivElement>) => {
    const items = Array.from(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []);
    const index = items.indexOf(document.activeElement as HTMLElement);
    let next: number | null = null;
    switch (event.key) {
      case 'ArrowDown':
        next = (index + 1) % items.length;
        break;
      case 'ArrowUp':
        next = (index - 1 + items.length) % items.length;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = items.length - 1;
        break;
      case 'Escape':
        event.preventDefault();
        event.stopPropagation();
        close(true);
        return;
      case 'Tab':
        setOpen(false);
        return;
      default:
        return;
    }
    event.preventDefault();
    items[next]?.focus();
  };

  const choose = (action: () => void) => () => {
    setOpen(false);
    action();
  };

  return (
    <div className="server-menu">
      <button
        ref={triggerRef}
        type="button"
        className="server-menu-trigger"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => setOpen((o) => !o)}
        data-testid="server-menu-trigger"
      >
        <span className="sidebar-title server-name" data-testid="server-name" title={server.name}>
          {server.name}
        </span>
        <span className={open ? 'chevron chevron-open' : 'chevron'}>
          {open ? <CloseIcon size={16} /> : <ChevronDownIcon size={16} />}
        </span>
      </button>
      {open && (
        <div
          ref={menuRef}
          id={menuId}
          className="popup-menu server-menu-popup"
          role="menu"
          aria-label={t('servers.menu.label', { name: server.name })}
          onKeyDown={onKeyDown}
          data-testid="server-menu"
        >
          {canInvite && (
            <button
              type="button"
              role="menuitem"
              tabIndex={-1}
              className="popup-menu-item"
              onClick={choose(onInvite)}
              data-testid="server-menu-invite"
            >
              <span>{t('invites.dialog.open')}</span>
              <UserPlusIcon size={16} />
            </button>
          )}
          {canManageServer && (
            <button
              type="button"
              role="menuitem"
              tabIndex={-1}
              className="popup-menu-item"
              onClick={choose(onSettings)}
              data-testid="server-menu-settings"
            >
              <span>{t('servers.menu.settings')}</span>
              <GearIcon size={16} />
            </button>
          )}
          {canManageChannels && (
            <button
              type="button"
              role="menuitem"
              tabIndex={-1}
              className="popup-menu-item"
              onClick={choose(onCreateChannel)}
              data-testid="server-menu-create-channel"
            >
              <span>{t('servers.menu.createChannel')}</span>
              <PlusIcon size={16} />
            </button>
          )}
          {(canManageServer || canManageChannels || canInvite) && (
            <div className="popup-menu-separator" role="separator" />
          )}
          {isOwner ? (
            <button
              type="button"
              role="menuitem"
              tabIndex={-1}
              className="popup-menu-item popup-menu-danger"
              onClick={choose(onDelete)}
              data-testid="server-menu-delete"
            >
              <span>{t('servers.menu.delete')}</span>
              <TrashIcon size={16} />
            </button>
          ) : (
            <button
              type="button"
              role="menuitem"
              tabIndex={-1}
              className="popup-menu-item popup-menu-danger"
              onClick={choose(onLeave)}
              data-testid="server-menu-leave"
            >
              <span>{t('servers.menu.leave')}</span>
              <DoorIcon size={16} />
            </button>
          )}
        </div>
      )}
    </div>
  );
}
