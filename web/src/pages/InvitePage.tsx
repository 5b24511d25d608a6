import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { invitesApi, isApiError } from '../api';
import type { InvitePreview } from '../api/types';
import { PapoLogo } from '../components/icons';
import { FormAlert } from '../components/FormAlert';
import { useInviteErrorText, useJoinServer } from '../components/invites/useJoinServer';
import { lastChannel } from '../state/lastChannel';
import { useServers } from '../state/context';
import { inviteErrorCode } from '../state/invites';
import { channelPath, serverInitials, serverPath } from '../state/servers';
import '../components/invites/invites.css';
import { useDocumentTitle } from '../components/useDocumentTitle';

type PreviewState =
  | { status: 'loading' }
  | { status: 'ok'; preview: InvitePreview }
  | { status: 'error'; error: unknown };

/** `/invite/:code`: the server behind an invite, and a button to join it (logged-in users only). */
export function InvitePage() {
  const { t } = useTranslation();
  const { code = '' } = useParams();
  const servers = useServers();
  const navigate = useNavigate();
  const join = useJoinServer();
  const [state, setState] = useState<PreviewState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [busy, setBusy] = useState(false);
  const [joinError, setJoinError] = useState<unknown>(null);
  const previewError = useInviteErrorText(state.status === 'error' ? state.error : null);
  const joinErrorText = useInviteErrorText(joinError);

  useEffect(() => {
    let cancelled = false;
    setState({ status: 'loading' });
    invitesApi.preview(code).then(
      (preview) => !cancelled && setState({ status: 'ok', preview }),
      (error: unknown) => !cancelled && setState({ status: 'error', error }),
    );
    return () => {
      cancelled = true;
    };
  }, [code, attempt]);

  const preview = state.status === 'ok' ? state.preview : null;
  useDocumentTitle(preview ? `${t('invites.page.invited')} ${preview.server.name}` : null);
  const serverId = preview?.server_id ?? preview?.server.id ?? null;
  const alreadyMember = serverId !== null && (servers ?? []).some((s) => s.id === serverId);

  async function onJoin() {
    if (busy || !preview) return;
    if (alreadyMember && serverId) {
      const last = lastChannel(serverId);
      navigate(last ? channelPath(serverId, last) : serverPath(serverId));
      return;
    }
    setBusy(true);
    setJoinError(null);
    try {
      await join(code);
    } catch (err) {
      setJoinError(err);
      setBusy(false);
    }
  }

  const errorCode = state.status === 'error' && isApiError(state.error) ? inviteErrorCode(state.error.code) : null;
  // Refused for good (banned, or the invite died meanwhile): another click cannot help.
  const joinRefused = isApiError(joinError) && inviteErrorCode(joinError.code) !== null;

  return (
    <div className="auth-page invite-page">
      <Link className="auth-brand" to="/app" aria-label={t('invites.page.openApp')}>
        <PapoLogo />
        <span className="brand-name">{t('app.name')}</span>
      </Link>
      <main className="auth-card invite-card" data-testid="invite-page" aria-busy={state.status === 'loading'}>
        {state.status === 'loading' && <p className="invite-loading">{t('invites.page.loading')}</p>}
        {state.status === 'error' && (
          <>
            <h1 className="auth-title">{errorCode ? t('invites.page.invalidTitle') : t('invites.page.failedTitle')}</h1>
            <p className="invite-error" role="alert" data-testid="invite-error" data-code={errorCode ?? undefined}>
              {previewError}
            </p>
            {errorCode && errorCode !== 'banned' && <p className="auth-subtitle">{t('invites.page.askNew')}</p>}
            <div className="invite-actions">
              {!errorCode && (
                <button type="button" className="button button-secondary" onClick={() => setAttempt((n) => n + 1)}>
                  {t('app.retry')}
                </button>
              )}
              <Link to="/app" className="button button-primary">
                {t('invites.page.openApp')}
              </Link>
            </div>
          </>
        )}
        {preview && (
          <>
            <span className="invite-icon" aria-hidden="true">
              {serverInitials(preview.server.name)}
            </span>
            <p className="auth-subtitle invite-kicker">{t('invites.page.invited')}</p>
            <h1 className="auth-title" data-testid="invite-server-name">
              {preview.server.name}
            </h1>
            <p className="invite-counts">
              <span className="invite-count" data-testid="invite-online-count" data-count={preview.online_count}>
                <span className="invite-dot invite-dot-online" aria-hidden="true" />
                {t('invites.page.online', { count: preview.online_count })}
              </span>
              <span className="invite-count" data-testid="invite-member-count" data-count={preview.member_count}>
                <span className="invite-dot" aria-hidden="true" />
                {t('invites.page.members', { count: preview.member_count })}
              </span>
            </p>
            {preview.server.description && <p className="invite-description">{preview.server.description}</p>}
            <FormAlert message={joinErrorText} />
            <button
              type="button"
              className="button button-primary button-block"
              onClick={() => void onJoin()}
              disabled={busy || joinRefused}
              data-testid="invite-accept"
            >
              {alreadyMember ? t('invites.page.open') : busy ? t('invites.page.joining') : t('invites.page.join')}
            </button>
            {alreadyMember && <p className="field-hint invite-member-hint">{t('invites.page.alreadyMember')}</p>}
          </>
        )}
      </main>
    </div>
  );
}
