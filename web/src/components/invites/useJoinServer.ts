import { useCallback } from 'react';
import { useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { invitesApi, isApiError } from '../../api';
import { normalizeServerDetail } from '../../api/guards';
import type { ServerDetail } from '../../api/types';
import { useAuthActions } from '../../state/context';
import { inviteErrorCode } from '../../state/invites';
import { channelPath, defaultChannel, serverPath } from '../../state/servers';
import { useFormErrors } from '../useFormErrors';

const NO_FIELDS: readonly string[] = [];

/** Accepts an invite, puts the server in the store and opens it. */
export function useJoinServer(): (code: string) => Promise<ServerDetail> {
  const { applyServerAction } = useAuthActions();
  const navigate = useNavigate();
  return useCallback(
    async (code: string) => {
      const server = normalizeServerDetail(await invitesApi.accept(code));
      // `server.created` follows over the gateway; the upsert makes both harmless.
      applyServerAction({ type: 'server.upsert', server });
      const channel = defaultChannel(server);
      navigate(channel ? channelPath(server.id, channel.id) : serverPath(server.id));
      return server;
    },
    [applyServerAction, navigate],
  );
}

/** The message for an invite error: its own text for the invite codes, else the usual one. */
export function useInviteErrorText(error: unknown): string | null {
  const { t } = useTranslation();
  const generic = useFormErrors(error, NO_FIELDS).banner;
  if (error === null || error === undefined) return null;
  const code = isApiError(error) ? inviteErrorCode(error.code) : null;
  return code ? t(`invites.errors.${code}`) : generic;
}
