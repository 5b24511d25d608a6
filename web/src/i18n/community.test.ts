import { describe, expect, it } from 'vitest';
import { PERMISSION_GROUP_NAMES, PERMISSION_NAMES } from '../api/permissions';
import { SERVER_SETTINGS_TABS } from '../components/settings-server/tabs';
import { AUDIT_ACTIONS, AUDIT_FIELDS } from '../state/auditLog';
import { INVITE_ERROR_CODES, INVITE_EXPIRY_OPTIONS } from '../state/invites';
import { BAN_DELETE_OPTIONS, TIMEOUT_OPTIONS } from '../state/moderationOptions';
import { en, ptBR } from './locales';

type Tree = { [key: string]: string | Tree };

function lookup(tree: Tree, path: string): string | undefined {
  let node: string | Tree | undefined = tree;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = node[part];
  }
  return typeof node === 'string' ? node : undefined;
}

/** Every key the community screens build from data (permission names, actions, options…). */
function dynamicKeys(): string[] {
  return [
    ...PERMISSION_NAMES.flatMap((name) => [`permissions.names.${name}`, `permissions.hints.${name}`]),
    ...PERMISSION_GROUP_NAMES.map((group) => `permissions.groups.${group}`),
    ...AUDIT_ACTIONS.flatMap((action) => [`serverSettings.audit.actions.${action}`, `serverSettings.audit.actionNames.${action}`]),
    'serverSettings.audit.actions.unknown',
    ...AUDIT_FIELDS.map((field) => `serverSettings.audit.fields.${field}`),
    ...SERVER_SETTINGS_TABS.map((tab) => `serverSettings.tabs.${tab.name}`),
    ...INVITE_ERROR_CODES.map((code) => `invites.errors.${code}`),
    ...INVITE_EXPIRY_OPTIONS.map((o) => `invites.expiry.${o.key}`),
    ...TIMEOUT_OPTIONS.map((o) => `members.timeout.durations.${o.key}`),
    ...BAN_DELETE_OPTIONS.map((o) => `members.ban.delete.${o.key}`),
    ...['overwrites.deny', 'overwrites.inherit', 'overwrites.allow'].map((k) => `serverSettings.${k}`),
    // Error codes of the invite and moderation routes, for the generic error banner.
    ...['invite_expired', 'invite_used_up', 'invite_revoked', 'banned', 'forbidden', 'not_found'].map((c) => `errors.${c}`),
  ];
}

describe('community translations', () => {
  for (const [lang, tree] of [['en', en], ['pt-BR', ptBR]] as const) {
    it(`${lang} has a text for every permission, audit action, tab and option`, () => {
      const missing = dynamicKeys().filter((key) => !lookup(tree as Tree, key));
      expect(missing).toEqual([]);
    });
  }

  it('pt-BR has every plural form its rules select (one, many, other)', () => {
    for (const key of ['invites.page.members', 'invites.page.online', 'invites.maxUses.count', 'invites.dialog.maxUsesSummary']) {
      for (const form of new Intl.PluralRules('pt-BR').resolvedOptions().pluralCategories) {
        expect(lookup(ptBR as Tree, `${key}_${form}`), `${key}_${form}`).toBeTruthy();
      }
    }
  });

  it('is really translated (spot checks)', () => {
    expect(lookup(ptBR as Tree, 'permissions.names.ban_members')).toBe('Banir membros');
    expect(lookup(ptBR as Tree, 'members.kick.confirm')).toBe('Expulsar');
    expect(lookup(ptBR as Tree, 'serverSettings.tabs.audit-log')).toBe('Registro de auditoria');
    expect(lookup(ptBR as Tree, 'invites.join.title')).toBe('Entrar em um servidor');
    expect(lookup(en as Tree, 'serverSettings.audit.actions.member_ban_add')).toBe('{{actor}} banned {{target}}');
  });
});
