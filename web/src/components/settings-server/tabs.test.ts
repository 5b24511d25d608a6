import { describe, expect, it } from 'vitest';
import { toPermissionString } from '../../api/permissions';
import { canOpenServerSettings, canOpenTab, visibleTabs } from './tabs';

describe('server settings tabs', () => {
  it('shows every tab to the owner / administrators', () => {
    expect(visibleTabs('1100014153727')).toEqual(['overview', 'roles', 'permissions', 'invites', 'bans', 'audit-log']);
    expect(visibleTabs(toPermissionString(['administrator']))).toHaveLength(6);
  });

  it('shows only the tabs a permission opens', () => {
    expect(visibleTabs(toPermissionString(['ban_members']))).toEqual(['bans']);
    expect(visibleTabs(toPermissionString(['manage_roles', 'view_audit_log']))).toEqual(['roles', 'permissions', 'audit-log']);
    expect(visibleTabs(toPermissionString(['manage_server']))).toEqual(['overview', 'invites']);
    expect(canOpenTab(toPermissionString(['manage_server']), 'bans')).toBe(false);
  });

  it('has nothing for a plain member', () => {
    const member = toPermissionString(['view_channel', 'send_messages', 'create_invites', 'kick_members']);
    expect(visibleTabs(member)).toEqual([]);
    expect(canOpenServerSettings(member)).toBe(false);
    expect(canOpenServerSettings(toPermissionString(['view_audit_log']))).toBe(true);
  });
});
