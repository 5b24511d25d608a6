import { useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { localFieldErrors } from '../api/errors';
import { has } from '../api/permissions';
import type { Channel, ChannelKind, ChannelPatch, ServerDetail } from '../api/types';
import { ChoiceGroup, type Choice } from '../settings/ChoiceGroup';
import { useAuthActions, useServer } from '../state/context';
import { categoriesOf, normalizeChannelName, serverSettingsPath } from '../state/servers';
import { ConfirmDialog } from './ConfirmDialog';
import { FormAlert } from './FormAlert';
import { FormField } from './FormField';
import { FolderIcon, HashIcon, SpeakerIcon, TrashIcon } from './icons';
import { Modal } from './Modal';
import { useFormErrors } from './useFormErrors';

/** Slowmode choices (seconds) and their label keys under `channels.slowmode`. */
export const SLOWMODE_OPTIONS: readonly { secs: number; key: string }[] = [
  { secs: 0, key: 'off' },
  { secs: 5, key: '5s' },
  { secs: 10, key: '10s' },
  { secs: 30, key: '30s' },
  { secs: 60, key: '1m' },
  { secs: 300, key: '5m' },
  { secs: 900, key: '15m' },
  { secs: 3600, key: '1h' },
  { secs: 21600, key: '6h' },
];

const CHANNEL_NAME_MAX = 100;
const TOPIC_MAX = 1024;
const USER_LIMIT_MAX = 99;
const BITRATE_KBPS = { min: 8, max: 384, default: 64 } as const;

/** "#leituras-da-semana" under the name input of a text channel. */
function useNamePreview(kind: ChannelKind, name: string): string | undefined {
  const { t } = useTranslation();
  if (kind !== 'text') return undefined;
  const normalized = normalizeChannelName('text', name);
  return normalized ? t('channels.namePreview', { name: `#${normalized}` }) : undefined;
}

const CREATE_FIELDS = ['name', 'kind', 'parent_id', 'topic'] as const;

interface CreateChannelDialogProps {
  server: ServerDetail;
  initialKind: ChannelKind;
  initialParentId: string | null;
  onClose(): void;
  onCreated(channel: Channel): void;
}

/** Kind (text / voice / category), name, category → `POST /servers/{id}/channels`. */
export function CreateChannelDialog({
  server,
  initialKind,
  initialParentId,
  onClose,
  onCreated,
}: CreateChannelDialogProps) {
  const { t } = useTranslation();
  const { createChannel } = useAuthActions();
  const [kind, setKind] = useState<ChannelKind>(initialKind);
  const [name, setName] = useState('');
  const [parentId, setParentId] = useState(initialParentId ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = useFormErrors(error, CREATE_FIELDS);
  const preview = useNamePreview(kind, name);
  const categoryId = useId();
  const categories = categoriesOf(server);
  const parent = categories.find((c) => c.id === parentId);

  const choices: Choice<ChannelKind>[] = [
    {
      value: 'text',
      testId: 'channel-kind-text',
      label: (
        <span className="kind-choice">
          <HashIcon size={22} />
          <span>
            <span className="kind-choice-title">{t('channels.kind.text')}</span>
            <span className="kind-choice-hint">{t('channels.kind.textHint')}</span>
          </span>
        </span>
      ),
    },
    {
      value: 'voice',
      testId: 'channel-kind-voice',
      label: (
        <span className="kind-choice">
          <SpeakerIcon size={22} />
          <span>
            <span className="kind-choice-title">{t('channels.kind.voice')}</span>
            <span className="kind-choice-hint">{t('channels.kind.voiceHint')}</span>
          </span>
        </span>
      ),
    },
    {
      value: 'category',
      testId: 'channel-kind-category',
      label: (
        <span className="kind-choice">
          <FolderIcon size={22} />
          <span>
            <span className="kind-choice-title">{t('channels.kind.category')}</span>
            <span className="kind-choice-hint">{t('channels.kind.categoryHint')}</span>
          </span>
        </span>
      ),
    },
  ];

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy || !name.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const channel = await createChannel(server.id, {
        name,
        kind,
        ...(kind !== 'category' && parentId ? { parent_id: parentId } : {}),
      });
      onCreated(channel);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <Modal
      title={t('channels.create.title')}
      description={parent ? t('channels.create.inCategory', { name: parent.name }) : undefined}
      onClose={onClose}
      testId="create-channel-dialog"
    >
      <form className="form" onSubmit={onSubmit} noValidate>
        <FormAlert message={errors.banner} />
        <ChoiceGroup<ChannelKind>
          name="kind"
          legend={t('channels.create.kind')}
          value={kind}
          choices={choices}
          onChange={(value) => {
            setKind(value);
            setError(null);
          }}
        />
        {errors.fields.kind && <p className="field-error">{errors.fields.kind}</p>}
        <FormField
          name="name"
          label={t('channels.create.name')}
          value={name}
          onChange={(value) => {
            setName(value);
            setError(null);
          }}
          error={errors.fields.name}
          hint={preview}
          maxLength={CHANNEL_NAME_MAX}
          required
          autoFocus
        />
        {kind !== 'category' && categories.length > 0 && (
          <div className="field">
            <label className="field-label" htmlFor={categoryId}>
              {t('channels.create.category')}
            </label>
            <select
              id={categoryId}
              name="parent_id"
              className={errors.fields.parent_id ? 'input input-invalid' : 'input'}
              value={parentId}
              onChange={(e) => setParentId(e.target.value)}
            >
              <option value="">{t('channels.create.noCategory')}</option>
              {categories.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
            {errors.fields.parent_id && <p className="field-error">{errors.fields.parent_id}</p>}
          </div>
        )}
        <div className="dialog-actions">
          <button type="button" className="button button-link" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="submit"
            className="button button-primary"
            disabled={busy || !name.trim()}
            data-testid="create-channel-submit"
          >
            {busy ? t('channels.create.submitting') : t('channels.create.submit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

const EDIT_FIELDS = ['name', 'topic', 'slowmode_secs', 'user_limit', 'bitrate', 'parent_id', 'position', 'kind'] as const;

interface EditChannelDialogProps {
  channel: Channel;
  onClose(): void;
}

/** Name, topic and slowmode (text), user limit and bitrate (voice); delete. */
export function EditChannelDialog({ channel, onClose }: EditChannelDialogProps) {
  const { t } = useTranslation();
  const { updateChannel, deleteChannel } = useAuthActions();
  const server = useServer(channel.server_id);
  const canEditPermissions = has(server?.me.permissions, 'manage_roles');
  const [name, setName] = useState(channel.name);
  const [topic, setTopic] = useState(channel.topic ?? '');
  const [slowmode, setSlowmode] = useState(channel.slowmode_secs);
  const [userLimit, setUserLimit] = useState(String(channel.user_limit ?? 0));
  const [bitrate, setBitrate] = useState(
    String(channel.bitrate ? Math.round(channel.bitrate / 1000) : BITRATE_KBPS.default),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const errors = useFormErrors(error, EDIT_FIELDS);
  const preview = useNamePreview(channel.kind, name);
  const slowmodeId = useId();
  const isText = channel.kind === 'text';
  const isVoice = channel.kind === 'voice';
  const slowmodeOptions = SLOWMODE_OPTIONS.some((o) => o.secs === slowmode)
    ? SLOWMODE_OPTIONS
    : [...SLOWMODE_OPTIONS, { secs: slowmode, key: '' }].sort((a, b) => a.secs - b.secs);
  const clear = () => setError(null);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    const patch: ChannelPatch = {};
    if (name.trim() !== channel.name) patch.name = name;
    if (isText) {
      const nextTopic = topic.trim() ? topic : null;
      if (nextTopic !== channel.topic) patch.topic = nextTopic;
      if (slowmode !== channel.slowmode_secs) patch.slowmode_secs = slowmode;
    }
    if (isVoice) {
      const limit = Number(userLimit);
      if (!/^\d+$/.test(userLimit.trim()) || limit > USER_LIMIT_MAX) {
        setError(localFieldErrors({ user_limit: 'invalid_value' }));
        return;
      }
      const kbps = Number(bitrate);
      if (!/^\d+$/.test(bitrate.trim()) || kbps < BITRATE_KBPS.min || kbps > BITRATE_KBPS.max) {
        setError(localFieldErrors({ bitrate: 'invalid_value' }));
        return;
      }
      if (limit !== (channel.user_limit ?? 0)) patch.user_limit = limit;
      if (kbps * 1000 !== channel.bitrate) patch.bitrate = kbps * 1000;
    }
    if (Object.keys(patch).length === 0) {
      onClose();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await updateChannel(channel.id, patch);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const title = channel.kind === 'category' ? t('channels.edit.categoryTitle') : t('channels.edit.title');

  return (
    <>
      <Modal
        title={title}
        description={channel.kind === 'text' ? `#${channel.name}` : channel.name}
        onClose={onClose}
        testId="edit-channel-dialog"
      >
        <form className="form" onSubmit={onSubmit} noValidate>
          <FormAlert message={errors.banner} />
          <FormField
            name="name"
            label={channel.kind === 'category' ? t('channels.edit.categoryName') : t('channels.create.name')}
            value={name}
            onChange={(value) => {
              setName(value);
              clear();
            }}
            error={errors.fields.name}
            hint={preview}
            maxLength={CHANNEL_NAME_MAX}
            required
            autoFocus
          />
          {isText && (
            <>
              <FormField
                name="topic"
                label={t('channels.edit.topic')}
                value={topic}
                onChange={(value) => {
                  setTopic(value);
                  clear();
                }}
                error={errors.fields.topic}
                hint={t('channels.edit.topicHint')}
                maxLength={TOPIC_MAX}
                multiline
              />
              <div className="field">
                <label className="field-label" htmlFor={slowmodeId}>
                  {t('channels.edit.slowmode')}
                </label>
                <select
                  id={slowmodeId}
                  name="slowmode_secs"
                  className={errors.fields.slowmode_secs ? 'input input-invalid' : 'input'}
                  value={String(slowmode)}
                  onChange={(e) => {
                    setSlowmode(Number(e.target.value));
                    clear();
                  }}
                >
                  {slowmodeOptions.map((o) => (
                    <option key={o.secs} value={String(o.secs)}>
                      {o.key ? t(`channels.slowmode.${o.key}`) : t('channels.slowmode.custom', { seconds: o.secs })}
                    </option>
                  ))}
                </select>
                {errors.fields.slowmode_secs ? (
                  <p className="field-error">{errors.fields.slowmode_secs}</p>
                ) : (
                  <p className="field-hint">{t('channels.edit.slowmodeHint')}</p>
                )}
              </div>
            </>
          )}
          {isVoice && (
            <>
              <FormField
                name="user_limit"
                type="number"
                label={t('channels.edit.userLimit')}
                value={userLimit}
                onChange={(value) => {
                  setUserLimit(value);
                  clear();
                }}
                error={errors.fields.user_limit}
                hint={t('channels.edit.userLimitHint', { max: USER_LIMIT_MAX })}
                min={0}
                max={USER_LIMIT_MAX}
              />
              <FormField
                name="bitrate"
                type="number"
                label={t('channels.edit.bitrate')}
                value={bitrate}
                onChange={(value) => {
                  setBitrate(value);
                  clear();
                }}
                error={errors.fields.bitrate}
                hint={t('channels.edit.bitrateHint', { min: BITRATE_KBPS.min, max: BITRATE_KBPS.max })}
                min={BITRATE_KBPS.min}
                max={BITRATE_KBPS.max}
              />
            </>
          )}
          {canEditPermissions && (
            <p className="field-hint">
              <Link
                to={`${serverSettingsPath(channel.server_id)}/permissions?channel=${encodeURIComponent(channel.id)}`}
                data-testid="channel-permissions-link"
              >
                {t('serverSettings.overwrites.editLink')}
              </Link>{' '}
              {t('serverSettings.overwrites.editLinkHint')}
            </p>
          )}
          <div className="dialog-actions dialog-actions-split">
            <button
              type="button"
              className="button button-danger-outline"
              onClick={() => setConfirmDelete(true)}
              data-testid="delete-channel"
            >
              <TrashIcon size={16} />
              {channel.kind === 'category' ? t('channels.delete.categoryButton') : t('channels.delete.button')}
            </button>
            <span className="dialog-actions-spacer" />
            <button type="button" className="button button-link" onClick={onClose}>
              {t('common.cancel')}
            </button>
            <button type="submit" className="button button-primary" disabled={busy} data-testid="edit-channel-save">
              {busy ? t('common.saving') : t('common.save')}
            </button>
          </div>
        </form>
      </Modal>
      {confirmDelete && (
        <ConfirmDialog
          title={channel.kind === 'category' ? t('channels.delete.categoryTitle') : t('channels.delete.title')}
          body={t('channels.delete.body', { name: channel.kind === 'text' ? `#${channel.name}` : channel.name })}
          confirmLabel={channel.kind === 'category' ? t('channels.delete.categoryButton') : t('channels.delete.button')}
          onClose={() => setConfirmDelete(false)}
          onConfirm={async () => {
            await deleteChannel(channel);
            // The sidebar closes the edit dialog once the channel is gone; say so anyway.
            onClose();
          }}
          testId="delete-channel-dialog"
        />
      )}
    </>
  );
}
