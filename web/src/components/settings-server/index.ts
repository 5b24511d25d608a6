export { ServerAuditLog } from './AuditLogSettings';
export { ServerBansSettings } from './BansSettings';
export { ServerChannelPermissions } from './ChannelPermissionsSettings';
export { ServerInvitesSettings } from './InvitesSettings';
export { ServerRolesSettings } from './RolesSettings';
export { SERVER_SETTINGS_TABS, canOpenServerSettings, visibleTabs, type ServerSettingsTab } from './tabs';
