import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { useAuthActions } from '../state/context';
import { channelPath, defaultChannel, serverPath } from '../state/servers';
import { FormAlert } from './FormAlert';
import { FormField } from './FormField';
import { Modal } from './Modal';
import { useFormErrors } from './useFormErrors';

const FIELDS = ['name'] as const;
const SERVER_NAME_MAX = 100;

/** Name → `POST /servers` → the new server's #general. */
export function CreateServerDialog({ onClose }: { onClose(): void }) {
  const { t } = useTranslation();
  const { createServer } = useAuthActions();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = useFormErrors(error, FIELDS);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const server = await createServer(name);
      const general =
        server.channels.find((c) => c.kind === 'text' && c.name === 'general') ?? defaultChannel(server);
      onClose();
      navigate(general ? channelPath(server.id, general.id) : serverPath(server.id));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <Modal
      title={t('servers.create.title')}
      description={t('servers.create.description')}
      onClose={onClose}
      testId="create-server-dialog"
    >
      <form className="form" onSubmit={onSubmit} noValidate>
        <FormAlert message={errors.banner} />
        <FormField
          name="name"
          label={t('servers.create.name')}
          value={name}
          onChange={(value) => {
            setName(value);
            setError(null);
          }}
          error={errors.fields.name}
          hint={t('servers.create.nameHint')}
          maxLength={SERVER_NAME_MAX}
          required
          autoFocus
        />
        <div className="dialog-actions">
          <button type="button" className="button button-link" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary" disabled={busy} data-testid="create-server-submit">
            {busy ? t('servers.create.submitting') : t('servers.create.submit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
