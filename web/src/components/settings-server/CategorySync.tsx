import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { overwritesApi } from '../../api';
import { sameOverwrites } from '../../api/overwrites';
import type { Channel, ServerDetail } from '../../api/types';
import { useAuthActions } from '../../state/context';
import { ConfirmDialog } from '../ConfirmDialog';

const channelLabel = (c: Channel) => (c.kind === 'text' ? `#${c.name}` : c.name);

/**
 * Whether a channel's permissions are its category's ("synced": the category's changes apply
 * to it too), with "Sync with the category" when they are not; for a category, how many of
 * its channels are synced with it.
 */
export function CategorySync({ server, channel }: { server: ServerDetail; channel: Channel }) {
  const { t } = useTranslation();
  const { applyServerAction } = useAuthActions();
  const [confirming, setConfirming] = useState(false);

  if (channel.kind === 'category') {
    const synced = server.channels.filter((c) => c.parent_id === channel.id && sameOverwrites(c.overwrites, channel.overwrites));
    if (synced.length === 0) return null;
    return (
      <p className="settings-list-note overwrite-sync" data-testid="overwrite-sync">
        {t('serverSettings.overwrites.syncedChannels', { count: synced.length })}
      </p>
    );
  }
  const category = server.channels.find((c) => c.id === channel.parent_id && c.kind === 'category');
  if (!category) return null;
  const synced = sameOverwrites(channel.overwrites, category.overwrites);
  return (
    <div className="overwrite-sync" data-testid="overwrite-sync" data-synced={synced}>
      <p className="settings-list-note">
        {synced
          ? t('serverSettings.overwrites.synced', { category: category.name })
          : t('serverSettings.overwrites.notSynced', { category: category.name })}
      </p>
      {!synced && (
        <button type="button" className="button button-secondary" onClick={() => setConfirming(true)} data-testid="overwrite-sync-button">
          {t('serverSettings.overwrites.sync')}
        </button>
      )}
      {confirming && (
        <ConfirmDialog
          title={t('serverSettings.overwrites.syncTitle', { category: category.name })}
          body={t('serverSettings.overwrites.syncBody', { channel: channelLabel(channel), category: category.name })}
          confirmLabel={t('serverSettings.overwrites.sync')}
          onClose={() => setConfirming(false)}
          onConfirm={async () => {
            await overwritesApi.sync(channel.id);
            // 204 without a body: the channel now has the category's overwrites.
            applyServerAction({
              type: 'channel.overwrites',
              id: channel.id,
              server_id: channel.server_id,
              overwrites: category.overwrites,
            });
            setConfirming(false);
          }}
          testId="overwrite-sync-dialog"
        />
      )}
    </div>
  );
}
