import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { invitesApi } from '../../api';
import type { Invite, ServerDetail } from '../../api/types';
import { inviteUrl } from '../../state/invites';
import { memberDisplayName } from '../../state/members';
import { SettingsSection } from '../../settings/SettingsSection';
import { FormAlert } from '../FormAlert';
import { useMemberList } from '../members/useMembers';
import { useFormErrors } from '../useFormErrors';
import { ListStatus, TabGuard, useFormatDateTime, useLoaded } from './common';

const NO_FIELDS: readonly string[] = [];

/** `…/settings/invites`: the live invites, with who made them; revoke. */
export function ServerInvitesSettings() {
  return <TabGuard tab="invites">{(server) => <InvitesTab server={server} />}</TabGuard>;
}

function InvitesTab({ server }: { server: ServerDetail }) {
  const { t } = useTranslation();
  const { state, reload, update } = useLoaded(() => invitesApi.list(server.id), server.id);
  const members = useMemberList(server.id);
  const formatDate = useFormatDateTime();
  const [revoking, setRevoking] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const errors = useFormErrors(error, NO_FIELDS);
  const loadError = useFormErrors(state.error, NO_FIELDS).banner;
  const invites = state.data ?? [];

  const revoke = async (invite: Invite) => {
    if (revoking) return;
    setRevoking(invite.code);
    setError(null);
    try {
      await invitesApi.revoke(invite.code);
      update((list) => list.filter((i) => i.code !== invite.code));
    } catch (err) {
      setError(err);
    } finally {
      setRevoking(null);
    }
  };

  const inviter = (id: string) => {
    const member = members.members[id];
    return member ? memberDisplayName(member) : id;
  };

  return (
    <SettingsSection
      title={t('serverSettings.invites.title')}
      description={t('serverSettings.invites.description')}
      testId="server-settings-invites"
    >
      <FormAlert message={errors.banner} />
      <ListStatus
        loading={state.status === 'loading'}
        error={state.status === 'error' ? loadError : null}
        empty={state.status === 'ready' && invites.length === 0}
        emptyText={t('serverSettings.invites.empty')}
        onRetry={reload}
      />
      {invites.length > 0 && (
        <div className="settings-table-wrap">
          <table className="settings-table">
            <thead>
              <tr>
                <th scope="col">{t('serverSettings.invites.code')}</th>
                <th scope="col">{t('serverSettings.invites.inviter')}</th>
                <th scope="col">{t('serverSettings.invites.uses')}</th>
                <th scope="col">{t('serverSettings.invites.expires')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('serverSettings.invites.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {invites.map((invite) => (
                <tr key={invite.code} data-testid="invite-row" data-code={invite.code}>
                  <td data-label={t('serverSettings.invites.code')}>
                    <code title={inviteUrl(window.location.origin, invite.code)}>{invite.code}</code>
                  </td>
                  <td data-label={t('serverSettings.invites.inviter')}>{inviter(invite.inviter_id)}</td>
                  <td data-label={t('serverSettings.invites.uses')}>
                    {invite.max_uses > 0
                      ? t('serverSettings.invites.usesOf', { uses: invite.uses, max: invite.max_uses })
                      : t('serverSettings.invites.usesUnlimited', { uses: invite.uses })}
                  </td>
                  <td data-label={t('serverSettings.invites.expires')}>
                    {invite.expires_at ? formatDate(invite.expires_at) : t('serverSettings.invites.never')}
                  </td>
                  <td className="settings-table-actions">
                    <button
                      type="button"
                      className="button button-danger-outline button-small"
                      onClick={() => void revoke(invite)}
                      disabled={revoking !== null}
                      data-testid="revoke-invite-button"
                    >
                      {revoking === invite.code ? t('serverSettings.invites.revoking') : t('serverSettings.invites.revoke')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </SettingsSection>
  );
}
