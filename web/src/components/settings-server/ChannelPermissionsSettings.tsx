import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { overwritesApi } from '../../api';
import { canGrant, canTargetOverwrite, isEveryoneRole, sortRolesDesc, type Actor } from '../../api/hierarchy';
import {
  EMPTY_OVERWRITE,
  removeOverwrite,
  sameOverwrite,
  sortOverwrites,
  upsertOverwrite,
  type OverwriteBits,
} from '../../api/overwrites';
import type { Channel, Overwrite, ServerDetail } from '../../api/types';
import { useAuthActions } from '../../state/context';
import { memberDisplayName } from '../../state/members';
import { channelsInDisplayOrder, categoriesOf } from '../../state/servers';
import { SettingsSection } from '../../settings/SettingsSection';
import { ConfirmDialog } from '../ConfirmDialog';
import { CategorySync } from './CategorySync';
import { FormAlert } from '../FormAlert';
import { useMemberList } from '../members/useMembers';
import { useFormErrors } from '../useFormErrors';
import { TabGuard } from './common';
import { OverwritePermissions } from './PermissionList';
import './permissions.css';

const NO_FIELDS: readonly string[] = [];
const MEMBER_RESULTS = 8;

/** `…/settings/permissions?channel=<id>`: a channel's overwrites for roles and members. */
export function ServerChannelPermissions() {
  return <TabGuard tab="permissions">{(server, actor) => <ChannelPermissionsTab server={server} actor={actor} />}</TabGuard>;
}

const channelLabel = (c: Channel) => (c.kind === 'text' ? `#${c.name}` : c.name);

function ChannelPermissionsTab({ server, actor }: { server: ServerDetail; actor: Actor }) {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const selectId = useId();
  // Categories first with their channels, as in the sidebar.
  const channels = useMemo(
    () => [...categoriesOf(server), ...channelsInDisplayOrder(server.channels)],
    [server],
  );
  const wanted = params.get('channel');
  const channel = channels.find((c) => c.id === wanted) ?? channels[0] ?? null;

  return (
    <SettingsSection
      title={t('serverSettings.overwrites.title')}
      description={t('serverSettings.overwrites.description')}
      testId="server-settings-permissions"
    >
      {channel === null ? (
        <p className="settings-list-note">{t('servers.noChannels')}</p>
      ) : (
        <>
          <div className="field form-narrow">
            <label className="field-label" htmlFor={selectId}>
              {t('serverSettings.overwrites.channel')}
            </label>
            <select
              id={selectId}
              className="input"
              value={channel.id}
              onChange={(e) => setParams({ channel: e.target.value }, { replace: true })}
              data-testid="overwrite-channel"
            >
              {channels.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.kind === 'category' ? t('serverSettings.overwrites.categoryOption', { name: c.name }) : channelLabel(c)}
                </option>
              ))}
            </select>
          </div>
          <ChannelOverwrites key={channel.id} server={server} channel={channel} actor={actor} />
        </>
      )}
    </SettingsSection>
  );
}

interface ChannelOverwritesProps {
  server: ServerDetail;
  channel: Channel;
  actor: Actor;
}

function ChannelOverwrites({ server, channel, actor }: ChannelOverwritesProps) {
  const { t } = useTranslation();
  const { applyServerAction } = useAuthActions();
  const members = useMemberList(server.id);
  /** Overwrites added here and not saved yet. */
  const [drafts, setDrafts] = useState<Overwrite[]>([]);
  /** Unsaved edits, by target id. */
  const [edits, setEdits] = useState<Record<string, OverwriteBits>>({});
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = useFormErrors(error, NO_FIELDS);
  const addRoleId = useId();
  const searchId = useId();
  // Adding a role or member moves the focus to its editor: the select it was picked in
  // resets, and the member results it was picked from go, which left the focus nowhere.
  const editorTitle = useRef<HTMLHeadingElement>(null);
  const [focusEditor, setFocusEditor] = useState(false);
  useEffect(() => {
    if (!focusEditor) return;
    editorTitle.current?.focus();
    setFocusEditor(false);
  }, [focusEditor]);

  const stored = channel.overwrites;
  const all = sortOverwrites([...stored, ...drafts.filter((d) => !stored.some((o) => o.id === d.id))], server.roles);
  const selected = all.find((o) => o.id === selectedId) ?? all[0] ?? null;
  const isStored = selected ? stored.some((o) => o.id === selected.id) : false;
  const bits: OverwriteBits = selected ? (edits[selected.id] ?? selected) : EMPTY_OVERWRITE;
  const dirty = selected !== null && (!isStored || !sameOverwrite(bits, selected));

  const targetName = (o: Pick<Overwrite, 'id' | 'type'>) => {
    if (o.type === 'role') {
      const role = server.roles.find((r) => r.id === o.id);
      return role ? (isEveryoneRole(role) ? '@everyone' : role.name) : t('serverSettings.overwrites.unknownRole');
    }
    const member = members.members[o.id];
    return member ? memberDisplayName(member) : t('serverSettings.overwrites.unknownMember', { id: o.id });
  };

  // Only targets below the actor are offered (the server refuses the others).
  const targetable = (o: Pick<Overwrite, 'id' | 'type'>) =>
    canTargetOverwrite(actor, server, o, o.type === 'member' ? (members.members[o.id]?.roles ?? null) : null);
  const freeRoles = sortRolesDesc(server.roles).filter(
    (r) => !all.some((o) => o.id === r.id) && targetable({ id: r.id, type: 'role' }),
  );
  const selectedLocked = selected !== null && !targetable(selected);
  const query = search.trim().toLowerCase();
  const memberResults = query
    ? Object.values(members.members)
        .filter((m) => !all.some((o) => o.id === m.user.id) && targetable({ id: m.user.id, type: 'member' }))
        .filter((m) => [memberDisplayName(m), m.user.username].some((n) => n.toLowerCase().includes(query)))
        .slice(0, MEMBER_RESULTS)
    : [];

  const add = (id: string, type: Overwrite['type']) => {
    setDrafts((list) => [...list, { id, type, ...EMPTY_OVERWRITE }]);
    setSelectedId(id);
    setSearch('');
    setSaved(false);
    setFocusEditor(true);
  };

  const run = async (action: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const save = () =>
    run(async () => {
      if (!selected) return;
      const next: Overwrite = { id: selected.id, type: selected.type, allow: bits.allow, deny: bits.deny };
      await overwritesApi.put(channel.id, next.id, { type: next.type, allow: next.allow, deny: next.deny });
      // 204 without a body: apply it to our copy of the channel.
      const overwrites = upsertOverwrite(channel.overwrites, next);
      applyServerAction({ type: 'channel.overwrites', id: channel.id, server_id: channel.server_id, overwrites });
      setDrafts((list) => list.filter((d) => d.id !== next.id));
      setEdits((e) => {
        const rest = { ...e };
        delete rest[next.id];
        return rest;
      });
      setSaved(true);
    });

  const remove = async () => {
    if (!selected) return;
    if (isStored) {
      await overwritesApi.remove(channel.id, selected.id);
      const overwrites = removeOverwrite(channel.overwrites, selected.id);
      applyServerAction({ type: 'channel.overwrites', id: channel.id, server_id: channel.server_id, overwrites });
    }
    setDrafts((list) => list.filter((d) => d.id !== selected.id));
    setSelectedId(null);
  };

  return (
    <>
      <CategorySync server={server} channel={channel} />
      <div className="overwrites" data-testid="overwrites" data-channel-id={channel.id}>
        <div className="overwrites-side">
          <h2 className="settings-subtitle">{t('serverSettings.overwrites.targets')}</h2>
          <ul className="overwrite-list">
            {all.map((o) => (
              <li key={o.id}>
                <button
                  type="button"
                  className={selected?.id === o.id ? 'overwrite-row overwrite-row-selected' : 'overwrite-row'}
                  onClick={() => {
                    setSelectedId(o.id);
                    setSaved(false);
                    setError(null);
                  }}
                  aria-pressed={selected?.id === o.id}
                  data-testid="overwrite-row"
                  data-target-id={o.id}
                  data-type={o.type}
                >
                  <span className="settings-badge">{o.type === 'role' ? t('serverSettings.overwrites.role') : t('serverSettings.overwrites.member')}</span>
                  <span className="overwrite-row-name">{targetName(o)}</span>
                  {!stored.some((s) => s.id === o.id) && <span className="settings-badge">{t('serverSettings.overwrites.unsaved')}</span>}
                </button>
              </li>
            ))}
            {all.length === 0 && <li className="settings-list-note">{t('serverSettings.overwrites.none')}</li>}
          </ul>
          <div className="field">
            <label className="field-label" htmlFor={addRoleId}>
              {t('serverSettings.overwrites.addRole')}
            </label>
            <select
              id={addRoleId}
              className="input"
              value=""
              onChange={(e) => e.target.value && add(e.target.value, 'role')}
              disabled={freeRoles.length === 0}
              data-testid="overwrite-add-role"
            >
              <option value="">{t('serverSettings.overwrites.pickRole')}</option>
              {freeRoles.map((r) => (
                <option key={r.id} value={r.id}>
                  {isEveryoneRole(r) ? '@everyone' : r.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label className="field-label" htmlFor={searchId}>
              {t('serverSettings.overwrites.addMember')}
            </label>
            <input
              id={searchId}
              className="input"
              type="search"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
              placeholder={t('serverSettings.overwrites.searchMembers')}
              autoComplete="off"
              data-testid="overwrite-member-search"
            />
            {memberResults.length > 0 && (
              <ul className="overwrite-member-results">
                {memberResults.map((m) => (
                  <li key={m.user.id}>
                    <button
                      type="button"
                      className="overwrite-row"
                      onClick={() => add(m.user.id, 'member')}
                      data-testid="overwrite-add-member"
                      data-user-id={m.user.id}
                    >
                      <span className="overwrite-row-name">{memberDisplayName(m)}</span>
                      <span className="settings-muted">{m.user.username}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>
        {selected && (
          <div className="overwrites-main" data-testid="overwrite-editor" data-target-id={selected.id}>
            <h2 className="settings-subtitle" ref={editorTitle} tabIndex={-1} data-testid="overwrite-editor-title">
              {t('serverSettings.overwrites.editing', { name: targetName(selected), channel: channelLabel(channel) })}
            </h2>
            <FormAlert message={errors.banner} />
            <OverwritePermissions
              kind={channel.kind}
              bits={bits}
              onChange={(next) => {
                setEdits((e) => ({ ...e, [selected.id]: next }));
                setSaved(false);
              }}
              isLocked={(name) => busy || selectedLocked || !canGrant(actor, name)}
            />
            <div className="form-actions overwrite-actions">
              {/* aria-disabled, not disabled: a disabled button loses the focus it had. */}
              <button
                type="button"
                className="button button-primary"
                onClick={() => {
                  if (!busy && dirty) void save();
                }}
                aria-disabled={busy || !dirty}
                data-testid="overwrite-save"
              >
                {busy ? t('common.saving') : t('common.save')}
              </button>
              <FormAlert kind="success" message={saved && !dirty ? t('serverSettings.overwrites.saved') : null} testId="overwrite-saved" />
              <span className="dialog-actions-spacer" />
              <button
                type="button"
                className="button button-danger-outline"
                onClick={() => (isStored ? setConfirmRemove(true) : void remove())}
                disabled={busy || selectedLocked}
                data-testid="overwrite-remove"
              >
                {t('serverSettings.overwrites.remove')}
              </button>
            </div>
          </div>
        )}
        {confirmRemove && selected && (
          <ConfirmDialog
            title={t('serverSettings.overwrites.removeTitle')}
            body={t('serverSettings.overwrites.removeBody', { name: targetName(selected), channel: channelLabel(channel) })}
            confirmLabel={t('serverSettings.overwrites.remove')}
            onClose={() => setConfirmRemove(false)}
            onConfirm={async () => {
              await remove();
              setConfirmRemove(false);
            }}
            testId="remove-overwrite-dialog"
          />
        )}
      </div>
    </>
  );
}
