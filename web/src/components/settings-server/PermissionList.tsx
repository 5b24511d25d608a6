import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { overwriteState, withOverwriteState, type OverwriteBits, type TriState } from '../../api/overwrites';
import {
  PERMISSION_GROUPS,
  PERMISSION_GROUP_NAMES,
  channelPermissionGroups,
  parsePermissions,
  permissionValue,
  type PermissionName,
} from '../../api/permissions';
import type { ChannelKind } from '../../api/types';
import { CheckIcon, SlashIcon, XIcon } from '../communityIcons';
import './permissions.css';

interface PermissionSwitchesProps {
  /** decimal permission string */
  value: string;
  onChange(value: string): void;
  /** A permission the user may not change (hierarchy, or not theirs to grant). */
  isLocked(name: PermissionName): boolean;
}

/** A role's permissions as switches, grouped (general, members, text, voice). */
export function PermissionSwitches({ value, onChange, isLocked }: PermissionSwitchesProps) {
  const { t } = useTranslation();
  const bits = parsePermissions(value);
  const toggle = (name: PermissionName, on: boolean) => {
    const bit = permissionValue(name);
    onChange((on ? bits | bit : bits & ~bit).toString());
  };
  return (
    <div className="perm-groups" data-testid="role-permissions">
      {PERMISSION_GROUP_NAMES.map((group) => (
        <fieldset key={group} className="perm-group">
          <legend className="perm-group-title">{t(`permissions.groups.${group}`)}</legend>
          {PERMISSION_GROUPS[group].map((name) => (
            <PermissionSwitch
              key={name}
              name={name}
              checked={(bits & permissionValue(name)) !== 0n}
              locked={isLocked(name)}
              onChange={(on) => toggle(name, on)}
            />
          ))}
        </fieldset>
      ))}
    </div>
  );
}

function PermissionSwitch({
  name,
  checked,
  locked,
  onChange,
}: {
  name: PermissionName;
  checked: boolean;
  locked: boolean;
  onChange(on: boolean): void;
}) {
  const { t } = useTranslation();
  const hintId = useId();
  return (
    <label className={locked ? 'perm-row perm-row-locked' : 'perm-row'}>
      <span className="perm-text">
        <span className="perm-name">{t(`permissions.names.${name}`)}</span>
        <span className="perm-hint" id={hintId}>
          {t(`permissions.hints.${name}`)}
        </span>
      </span>
      <input
        type="checkbox"
        role="switch"
        className="switch"
        checked={checked}
        disabled={locked}
        aria-describedby={hintId}
        onChange={(e) => onChange(e.target.checked)}
        data-testid={`permission-${name}`}
      />
    </label>
  );
}

interface OverwritePermissionsProps {
  kind: ChannelKind;
  bits: OverwriteBits;
  onChange(bits: OverwriteBits): void;
  isLocked(name: PermissionName): boolean;
}

const STATES: readonly TriState[] = ['deny', 'inherit', 'allow'];

/** A channel overwrite: deny / inherit / allow per permission that applies to this kind of channel. */
export function OverwritePermissions({ kind, bits, onChange, isLocked }: OverwritePermissionsProps) {
  const { t } = useTranslation();
  return (
    <div className="perm-groups" data-testid="overwrite-permissions">
      {channelPermissionGroups(kind).map(({ group, names }) => (
        <fieldset key={group} className="perm-group">
          <legend className="perm-group-title">{t(`permissions.groups.${group}`)}</legend>
          {names.map((name) => (
            <TriStateRow
              key={name}
              name={name}
              state={overwriteState(bits, name)}
              locked={isLocked(name)}
              onChange={(state) => onChange(withOverwriteState(bits, name, state))}
            />
          ))}
        </fieldset>
      ))}
    </div>
  );
}

function TriStateRow({
  name,
  state,
  locked,
  onChange,
}: {
  name: PermissionName;
  state: TriState;
  locked: boolean;
  onChange(state: TriState): void;
}) {
  const { t } = useTranslation();
  const labelId = useId();
  const radioName = useId();
  return (
    <div className={locked ? 'perm-row perm-row-locked' : 'perm-row'}>
      <span className="perm-text">
        <span className="perm-name" id={labelId}>
          {t(`permissions.names.${name}`)}
        </span>
        <span className="perm-hint">{t(`permissions.hints.${name}`)}</span>
      </span>
      <span className="tristate" role="radiogroup" aria-labelledby={labelId}>
        {STATES.map((option) => (
          <label key={option} className={`tristate-option tristate-${option}`} title={t(`serverSettings.overwrites.${option}`)}>
            <input
              type="radio"
              name={radioName}
              value={option}
              checked={state === option}
              disabled={locked}
              onChange={() => onChange(option)}
              aria-label={t(`serverSettings.overwrites.${option}`)}
              data-testid={`overwrite-${name}-${option}`}
            />
            <span className="tristate-face" aria-hidden="true">
              {option === 'deny' ? <XIcon size={14} /> : option === 'allow' ? <CheckIcon size={14} /> : <SlashIcon size={14} />}
            </span>
          </label>
        ))}
      </span>
    </div>
  );
}
