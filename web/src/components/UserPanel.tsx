import { useEffect, useId, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { activeCustomStatus, expiryOf } from '../gateway/presence';
import { PRESENCE_STATUSES, type CustomStatus, type PresenceStatus, type PresenceUpdate } from '../gateway/protocol';
import { useAuth, useAuthActions, useCurrentUser, useOwnPresence } from '../state/context';
import { Avatar, PresenceDot, displayNameOf } from './Avatar';
import { CustomStatusDialog } from './CustomStatusDialog';
import { GearIcon, LogoutIcon } from './icons';

/** Re-renders when `at` (epoch ms) passes, e.g. when a custom status expires. */
function useRerenderAt(at: number | null): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (at === null) return;
    const delay = at - Date.now();
    if (delay <= 0 || delay > 2_147_483_647) return;
    const timer = setTimeout(() => setTick((n) => n + 1), delay + 50);
    return () => clearTimeout(timer);
  }, [at]);
}

/** Bottom-left: who is logged in and their status, with settings and log out. */
export function UserPanel() {
  const { t } = useTranslation();
  const user = useCurrentUser();
  const { presenceChoice } = useAuth();
  const { logout, setPresence } = useAuthActions();
  const own = useOwnPresence();
  useRerenderAt(expiryOf(own.custom));
  const custom = activeCustomStatus(own.custom, Date.now());
  const [menuOpen, setMenuOpen] = useState(false);
  const [dialogOpen, setDialogOpen] = useState(false);
  const menuId = useId();
  const triggerRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);

  const closeMenu = (focusTrigger: boolean) => {
    setMenuOpen(false);
    if (focusTrigger) triggerRef.current?.focus();
  };

  // Focus the checked item on open; close on a click outside.
  useEffect(() => {
    if (!menuOpen) return;
    const menu = menuRef.current;
    const checked = menu?.querySelector<HTMLElement>('[aria-checked="true"]');
    (checked ?? menu?.querySelector<HTMLElement>('[role^="menuitem"]'))?.focus();
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Node | null;
      if (target && (menu?.contains(target) || triggerRef.current?.contains(target))) return;
      setMenuOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [menuOpen]);

  const onMenuKeyDown = (event: ReactKeyboardEvent<HTMLDivElement>) => {
    const items = Array.from(menuRef.current?.querySelectorAll<HTMLElement>('[role^="menuitem"]') ?? []);
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
        closeMenu(true);
        return;
      case 'Tab':
        setMenuOpen(false);
        return;
      default:
        return;
    }
    event.preventDefault();
    items[next]?.focus();
  };

  /** A status picked from the menu: shown at once, and put back if it could not be saved. */
  const pick = (update: PresenceUpdate) => {
    setPresence(update).catch((err: unknown) => console.warn('papo: could not save the status', err));
  };

  const chooseStatus = (status: PresenceStatus) => {
    pick({ status, custom_status: presenceChoice.custom_status });
    closeMenu(true);
  };

  /** The dialog stays open, with the server's reason, if the save is refused. */
  const saveCustom = async (customStatus: CustomStatus | null) => {
    await setPresence({ status: presenceChoice.status, custom_status: customStatus });
    setDialogOpen(false);
    // Once the modal dialog is gone: while it is open the rest of the page is inert.
    setTimeout(() => triggerRef.current?.focus(), 0);
  };

  return (
    <section className="user-panel" aria-label={t('userPanel.label')} data-testid="user-panel">
      <button
        ref={triggerRef}
        type="button"
        className="user-panel-trigger"
        aria-haspopup="menu"
        aria-expanded={menuOpen}
        aria-controls={menuOpen ? menuId : undefined}
        onClick={() => setMenuOpen((open) => !open)}
        data-testid="presence-trigger"
      >
        <Avatar user={user} status={own.status} />
        <span className="user-panel-names">
          <span className="user-panel-display-name" data-testid="user-panel-display-name">
            {displayNameOf(user)}
          </span>
          <span className="user-panel-username" data-testid="user-panel-username">
            {user.username}
          </span>
          {custom && (
            <span className="user-panel-custom-status" data-testid="user-panel-custom-status" title={custom.text}>
              {custom.emoji ? `${custom.emoji} ` : ''}
              {custom.text}
            </span>
          )}
        </span>
      </button>
      {menuOpen && (
        <div
          ref={menuRef}
          id={menuId}
          className="presence-menu"
          role="menu"
          aria-label={t('presence.menuLabel')}
          onKeyDown={onMenuKeyDown}
          data-testid="presence-menu"
        >
          {PRESENCE_STATUSES.map((status) => {
            const hint = status === 'dnd' || status === 'invisible' ? t(`presence.hint.${status}`) : null;
            return (
              <button
                key={status}
                type="button"
                role="menuitemradio"
                aria-checked={presenceChoice.status === status}
                tabIndex={-1}
                className="presence-menu-item"
                onClick={() => chooseStatus(status)}
                data-testid={`presence-option-${status}`}
              >
                <PresenceDot status={status} decorative />
                <span className="presence-menu-text">
                  <span className="presence-menu-label">{t(`presence.status.${status}`)}</span>
                  {hint && <span className="presence-menu-hint">{hint}</span>}
                </span>
              </button>
            );
          })}
          <div className="presence-menu-separator" role="separator" />
          <button
            type="button"
            role="menuitem"
            tabIndex={-1}
            className="presence-menu-item"
            onClick={() => {
              setMenuOpen(false);
              setDialogOpen(true);
            }}
            data-testid="presence-custom-status"
          >
            <span className="presence-menu-text">
              <span className="presence-menu-label">
                {presenceChoice.custom_status ? t('presence.editCustom') : t('presence.setCustom')}
              </span>
            </span>
          </button>
          {presenceChoice.custom_status && (
            <button
              type="button"
              role="menuitem"
              tabIndex={-1}
              className="presence-menu-item"
              onClick={() => {
                pick({ status: presenceChoice.status, custom_status: null });
                closeMenu(true);
              }}
              data-testid="presence-clear-custom-status"
            >
              <span className="presence-menu-text">
                <span className="presence-menu-label">{t('presence.clearCustom')}</span>
              </span>
            </button>
          )}
        </div>
      )}
      {dialogOpen && (
        <CustomStatusDialog
          initial={presenceChoice.custom_status}
          onSave={saveCustom}
          onClose={() => {
            setDialogOpen(false);
            // Opened from a menu item that is gone: the focus goes back to the status button.
            setTimeout(() => triggerRef.current?.focus(), 0);
          }}
        />
      )}
      <Link
        to="/settings"
        className="icon-button"
        aria-label={t('userPanel.settings')}
        title={t('userPanel.settings')}
        data-testid="open-settings"
      >
        <GearIcon />
      </Link>
      <button
        type="button"
        className="icon-button"
        onClick={() => void logout()}
        aria-label={t('userPanel.logout')}
        title={t('userPanel.logout')}
        data-testid="logout-button"
      >
        <LogoutIcon />
      </button>
    </section>
  );
}
