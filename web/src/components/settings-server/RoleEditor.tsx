import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { rolesApi } from '../../api';
import { normalizeRole } from '../../api/guards';
import { canGrant, canManageRole, canMoveOrDeleteRole, isEveryoneRole, type Actor } from '../../api/hierarchy';
import { parsePermissions } from '../../api/permissions';
import type { Role, RolePatch, ServerDetail } from '../../api/types';
import { useAuthActions } from '../../state/context';
import { accentToCss } from '../Avatar';
import { ConfirmDialog } from '../ConfirmDialog';
import { FormAlert } from '../FormAlert';
import { FormField } from '../FormField';
import { TrashIcon } from '../icons';
import { memberStore } from '../members/useMembers';
import { useFormErrors } from '../useFormErrors';
import { PermissionSwitches } from './PermissionList';

const FIELDS = ['name', 'color', 'permissions', 'hoist', 'mentionable'] as const;
const ROLE_NAME_MAX = 100;
/** Discord-like presets for the colour picker. */
/** Preset colours, each with a name to be read out (a hex code says nothing to most people). */
const SWATCHES = [
  [0x1abc9c, 'teal'],
  [0x2ecc71, 'green'],
  [0x3498db, 'blue'],
  [0x9b59b6, 'purple'],
  [0xe91e63, 'pink'],
  [0xf1c40f, 'yellow'],
  [0xe67e22, 'orange'],
  [0xe74c3c, 'red'],
  [0x95a5a6, 'grey'],
  [0x607d8b, 'slate'],
] as const;

interface RoleEditorProps {
  server: ServerDetail;
  role: Role;
  actor: Actor;
  onDeleted(): void;
}

/** Name, colour, hoist, mentionable and permissions of one role (disabled where the hierarchy forbids). */
export function RoleEditor({ server, role, actor, onDeleted }: RoleEditorProps) {
  const { t } = useTranslation();
  const { applyServerAction } = useAuthActions();
  const everyone = isEveryoneRole(role);
  const editable = canManageRole(actor, role);
  const [name, setName] = useState(role.name);
  const [color, setColor] = useState<number | null>(role.color);
  const [hoist, setHoist] = useState(role.hoist);
  const [mentionable, setMentionable] = useState(role.mentionable);
  const [permissions, setPermissions] = useState(role.permissions);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = useFormErrors(error, FIELDS);
  const colorId = useId();

  const patch: RolePatch = {};
  if (!everyone && name.trim() !== role.name) patch.name = name.trim();
  if (!everyone && color !== role.color) patch.color = color;
  if (!everyone && hoist !== role.hoist) patch.hoist = hoist;
  if (!everyone && mentionable !== role.mentionable) patch.mentionable = mentionable;
  if (parsePermissions(permissions) !== parsePermissions(role.permissions)) patch.permissions = permissions;
  const dirty = Object.keys(patch).length > 0;

  const reset = () => {
    setName(role.name);
    setColor(role.color);
    setHoist(role.hoist);
    setMentionable(role.mentionable);
    setPermissions(role.permissions);
    setError(null);
  };

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!editable || busy || !dirty) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const updated = normalizeRole(await rolesApi.update(server.id, role.id, patch));
      applyServerAction({ type: 'role.upsert', role: updated, self_id: actor.userId });
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const changed = () => {
    setSaved(false);
    setError(null);
  };

  return (
    <>
      <form
        id="role-editor"
        className="form role-editor"
        onSubmit={onSubmit}
        noValidate
        aria-label={t('serverSettings.roles.editTitle', { name: everyone ? '@everyone' : role.name })}
        data-testid="role-editor"
        data-role-id={role.id}
      >
        <h2 className="role-editor-title">
          {t('serverSettings.roles.editTitle', { name: everyone ? '@everyone' : role.name })}
        </h2>
        {!editable && <FormAlert kind="info" message={t('serverSettings.roles.locked')} testId="role-locked" />}
        {everyone && <p className="field-hint">{t('serverSettings.roles.everyoneHint')}</p>}
        <FormAlert message={errors.banner} />
        <fieldset className="role-editor-fields" disabled={!editable || busy}>
          {!everyone && (
            <>
              <FormField
                name="name"
                label={t('serverSettings.roles.name')}
                value={name}
                onChange={(value) => {
                  setName(value);
                  changed();
                }}
                error={errors.fields.name}
                maxLength={ROLE_NAME_MAX}
                required
              />
              <div className="field">
                <span className="field-label" id={colorId}>
                  {t('serverSettings.roles.color')}
                </span>
                <div className="color-row" role="group" aria-labelledby={colorId}>
                  <button
                    type="button"
                    className={color === null ? 'color-swatch color-swatch-none color-swatch-selected' : 'color-swatch color-swatch-none'}
                    onClick={() => {
                      setColor(null);
                      changed();
                    }}
                    aria-pressed={color === null}
                    aria-label={t('serverSettings.roles.noColor')}
                    title={t('serverSettings.roles.noColor')}
                  />
                  {SWATCHES.map(([swatch, swatchName]) => (
                    <button
                      key={swatch}
                      type="button"
                      className={color === swatch ? 'color-swatch color-swatch-selected' : 'color-swatch'}
                      style={{ background: accentToCss(swatch) }}
                      onClick={() => {
                        setColor(swatch);
                        changed();
                      }}
                      aria-pressed={color === swatch}
                      aria-label={t(`serverSettings.roles.swatch.${swatchName}`)}
                      title={t(`serverSettings.roles.swatch.${swatchName}`)}
                    />
                  ))}
                  <input
                    type="color"
                    className="color-input"
                    value={accentToCss(color) ?? '#99aab5'}
                    onChange={(e) => {
                      setColor(parseInt(e.target.value.slice(1), 16));
                      changed();
                    }}
                    aria-label={t('serverSettings.roles.customColor')}
                    data-testid="role-color"
                  />
                </div>
                {errors.fields.color && <p className="field-error">{errors.fields.color}</p>}
              </div>
              <label className="perm-row">
                <span className="perm-text">
                  <span className="perm-name">{t('serverSettings.roles.hoist')}</span>
                  <span className="perm-hint">{t('serverSettings.roles.hoistHint')}</span>
                </span>
                <input
                  type="checkbox"
                  role="switch"
                  className="switch"
                  checked={hoist}
                  onChange={(e) => {
                    setHoist(e.target.checked);
                    changed();
                  }}
                  data-testid="role-hoist"
                />
              </label>
              <label className="perm-row">
                <span className="perm-text">
                  <span className="perm-name">{t('serverSettings.roles.mentionable')}</span>
                  <span className="perm-hint">{t('serverSettings.roles.mentionableHint')}</span>
                </span>
                <input
                  type="checkbox"
                  role="switch"
                  className="switch"
                  checked={mentionable}
                  onChange={(e) => {
                    setMentionable(e.target.checked);
                    changed();
                  }}
                  data-testid="role-mentionable"
                />
              </label>
            </>
          )}
          <h3 className="role-editor-subtitle">{t('serverSettings.roles.permissions')}</h3>
          <PermissionSwitches
            value={permissions}
            onChange={(value) => {
              setPermissions(value);
              changed();
            }}
            isLocked={(permission) => !editable || !canGrant(actor, permission)}
          />
        </fieldset>
        <div className="form-actions role-editor-actions">
          {/* aria-disabled, not disabled: a disabled button loses the focus it had (Enter on Save left it on the page). */}
          <button type="submit" className="button button-primary" aria-disabled={!editable || busy || !dirty} data-testid="role-save">
            {busy ? t('common.saving') : t('common.save')}
          </button>
          {dirty && (
            <button type="button" className="button button-link" onClick={reset} disabled={busy}>
              {t('serverSettings.reset')}
            </button>
          )}
          <FormAlert kind="success" message={saved && !dirty ? t('serverSettings.roles.saved') : null} testId="role-saved" />
          <span className="dialog-actions-spacer" />
          {canMoveOrDeleteRole(actor, role) && (
            <button
              type="button"
              className="button button-danger-outline"
              onClick={() => setConfirmDelete(true)}
              disabled={busy}
              data-testid="role-delete"
            >
              <TrashIcon size={16} />
              {t('serverSettings.roles.delete')}
            </button>
          )}
        </div>
      </form>
      {confirmDelete && (
        <ConfirmDialog
          title={t('serverSettings.roles.deleteTitle', { name: role.name })}
          body={t('serverSettings.roles.deleteBody', { name: role.name })}
          confirmLabel={t('serverSettings.roles.delete')}
          onClose={() => setConfirmDelete(false)}
          onConfirm={async () => {
            await rolesApi.remove(server.id, role.id);
            applyServerAction({ type: 'role.deleted', id: role.id, server_id: server.id, self_id: actor.userId });
            memberStore.dispatch({ type: 'role.deleted', server_id: server.id, id: role.id });
            setConfirmDelete(false);
            onDeleted();
          }}
          testId="delete-role-dialog"
        />
      )}
    </>
  );
}
