// The tabs of the server settings and the permission each one needs (the
// permission of the routes it calls). Pure, no React.

import { has, type PermissionName } from '../../api/permissions';

export const SERVER_SETTINGS_TABS = [
  { name: 'overview', permission: 'manage_server' },
  { name: 'roles', permission: 'manage_roles' },
  { name: 'permissions', permission: 'manage_roles' },
  { name: 'invites', permission: 'manage_server' },
  { name: 'bans', permission: 'ban_members' },
  { name: 'audit-log', permission: 'view_audit_log' },
] as const satisfies readonly { name: string; permission: PermissionName }[];

export type ServerSettingsTab = (typeof SERVER_SETTINGS_TABS)[number]['name'];

/** The tabs these server-wide permissions open, in order. */
export function visibleTabs(permissions: string | bigint | null | undefined): ServerSettingsTab[] {
  return SERVER_SETTINGS_TABS.filter((tab) => has(permissions, tab.permission)).map((tab) => tab.name);
}

export function canOpenTab(permissions: string | bigint | null | undefined, tab: ServerSettingsTab): boolean {
  return visibleTabs(permissions).includes(tab);
}

/** Whether the server settings have anything to show (the server menu's "Server settings"). */
export function canOpenServerSettings(permissions: string | bigint | null | undefined): boolean {
  return visibleTabs(permissions).length > 0;
}
