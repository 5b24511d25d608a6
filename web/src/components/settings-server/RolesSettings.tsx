import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { rolesApi } from '../../api';
import { normalizeRole } from '../../api/guards';
import { canMoveOrDeleteRole, isEveryoneRole, maxRolePosition, sortRolesDesc, type Actor } from '../../api/hierarchy';
import { has } from '../../api/permissions';
import type { Role, ServerDetail } from '../../api/types';
import { useAuthActions } from '../../state/context';
import { SettingsSection } from '../../settings/SettingsSection';
import { accentToCss, roleTextStyle } from '../Avatar';
import { ArrowDownIcon, ArrowUpIcon } from '../communityIcons';
import { FormAlert } from '../FormAlert';
import { PlusIcon } from '../icons';
import { useFormErrors } from '../useFormErrors';
import { TabGuard } from './common';
import { RoleEditor } from './RoleEditor';
import './permissions.css';

const NO_FIELDS: readonly string[] = [];

/** `…/settings/roles`: the roles highest first; create, reorder, edit, delete. */
export function ServerRolesSettings() {
  return <TabGuard tab="roles">{(server, actor) => <RolesTab server={server} actor={actor} />}</TabGuard>;
}

function RolesTab({ server, actor }: { server: ServerDetail; actor: Actor }) {
  const { t } = useTranslation();
  const { applyServerAction } = useAuthActions();
  const roles = sortRolesDesc(server.roles);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = useFormErrors(error, NO_FIELDS);
  const selected = roles.find((r) => r.id === selectedId) ?? null;
  const top = maxRolePosition(actor, roles);
  const canCreate = actor.isOwner || has(actor.permissions, 'manage_roles');

  const run = async (action: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const create = () =>
    run(async () => {
      const role = normalizeRole(await rolesApi.create(server.id, { name: t('serverSettings.roles.newRoleName') }));
      applyServerAction({ type: 'role.upsert', role, self_id: actor.userId });
      setSelectedId(role.id);
    });

  const move = (role: Role, by: 1 | -1) =>
    run(async () => {
      await rolesApi.update(server.id, role.id, { position: role.position + by });
      // Other roles moved too: take the server's whole list.
      const fresh = (await rolesApi.list(server.id)).map(normalizeRole);
      applyServerAction({ type: 'roles.loaded', server_id: server.id, roles: fresh, self_id: actor.userId });
    });

  return (
    <SettingsSection
      title={t('serverSettings.roles.title')}
      description={t('serverSettings.roles.description')}
      testId="server-settings-roles"
    >
      <div className="settings-toolbar">
        <button
          type="button"
          className="button button-primary"
          onClick={() => void create()}
          disabled={busy || !canCreate}
          data-testid="role-create"
        >
          <PlusIcon size={16} />
          {t('serverSettings.roles.create')}
        </button>
      </div>
      <FormAlert message={errors.banner} />
      <ol className="role-list" aria-label={t('serverSettings.roles.listLabel')}>
        {roles.map((role) => {
          const everyone = isEveryoneRole(role);
          const movable = canMoveOrDeleteRole(actor, role);
          const color = accentToCss(role.color);
          return (
            <li
              key={role.id}
              className={role.id === selectedId ? 'role-row role-row-selected' : 'role-row'}
              data-testid="role-row"
              data-role-id={role.id}
            >
              <button
                type="button"
                className="role-row-main"
                onClick={() => setSelectedId(role.id === selectedId ? null : role.id)}
                aria-expanded={role.id === selectedId}
                aria-controls={role.id === selectedId ? 'role-editor' : undefined}
              >
                <span className="role-chip-dot" style={{ background: color ?? 'var(--text-muted)' }} aria-hidden="true" />
                <span className="role-row-name" style={roleTextStyle(role.color)}>
                  {everyone ? '@everyone' : role.name}
                </span>
                {role.hoist && <span className="settings-badge">{t('serverSettings.roles.hoistedBadge')}</span>}
                {!movable && !everyone && (
                  <span className="settings-badge">
                    {/* One's own top role is locked too (only roles below can be managed), but not "above". */}
                    {!actor.isOwner && role.position === actor.highest && server.me.roles.includes(role.id)
                      ? t('serverSettings.roles.ownTopBadge')
                      : t('serverSettings.roles.lockedBadge')}
                  </span>
                )}
              </button>
              {!everyone && (
                <span className="role-row-moves">
                  <button
                    type="button"
                    className="icon-button"
                    onClick={() => void move(role, 1)}
                    disabled={busy || !movable || role.position + 1 > top}
                    aria-label={t('serverSettings.roles.moveUp', { name: role.name })}
                    title={t('serverSettings.roles.moveUp', { name: role.name })}
                    data-testid="role-move-up"
                  >
                    <ArrowUpIcon size={16} />
                  </button>
                  <button
                    type="button"
                    className="icon-button"
                    onClick={() => void move(role, -1)}
                    disabled={busy || !movable || role.position - 1 < 1}
                    aria-label={t('serverSettings.roles.moveDown', { name: role.name })}
                    title={t('serverSettings.roles.moveDown', { name: role.name })}
                    data-testid="role-move-down"
                  >
                    <ArrowDownIcon size={16} />
                  </button>
                </span>
              )}
            </li>
          );
        })}
      </ol>
      {selected && (
        <RoleEditor
          key={selected.id}
          server={server}
          role={selected}
          actor={actor}
          onDeleted={() => setSelectedId(null)}
        />
      )}
    </SettingsSection>
  );
}
