import { useEffect } from 'react';
import { Navigate, useParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import type { Channel } from '../api/types';
import { rememberChannel } from '../state/lastChannel';
import { useServers } from '../state/context';
import { resolveServerRoute } from '../state/servers';
import { ChatView } from './chat/ChatView';
import { ChatBubblesIcon, SpeakerIcon } from './icons';
import { MainHeader } from './MainHeader';

/**
 * The main area of `/app/servers/:serverId[/channels/:channelId]`. Unknown,
 * deleted or left servers go back to /app; unknown or deleted channels go to
 * the server's first text channel.
 */
export function ServerView() {
  const { t } = useTranslation();
  const { serverId = '', channelId } = useParams();
  const servers = useServers();
  const route = resolveServerRoute(servers, serverId, channelId ?? null);
  const openChannel = route.status === 'ok' ? route.channel : null;

  useEffect(() => {
    if (openChannel) rememberChannel(openChannel.server_id, openChannel.id);
  }, [openChannel]);

  if (route.status === 'loading') {
    return (
      <>
        <MainHeader>
          <h1 className="main-title">{t('app.loading')}</h1>
        </MainHeader>
        <div className="main-loading" aria-busy="true" />
      </>
    );
  }
  if (route.status === 'redirect') return <Navigate to={route.to} replace />;
  const { server, channel } = route;
  if (!channel) {
    return (
      <>
        <MainHeader>
          <h1 className="main-title">{server.name}</h1>
        </MainHeader>
        <section className="empty-state" data-testid="no-channels">
          <span className="empty-state-art">
            <ChatBubblesIcon size={72} />
          </span>
          <h2>{server.name}</h2>
          <p>{t('servers.noChannels')}</p>
        </section>
      </>
    );
  }
  return channel.kind === 'voice' ? (
    <VoiceChannelView channel={channel} />
  ) : (
    <ChatView key={channel.id} server={server} channel={channel} />
  );
}

function VoiceChannelView({ channel }: { channel: Channel }) {
  const { t } = useTranslation();
  return (
    <>
      <MainHeader>
        <span className="main-header-icon">
          <SpeakerIcon size={22} />
        </span>
        <h1 className="main-title" data-testid="channel-title">
          {channel.name}
        </h1>
      </MainHeader>
      <section className="empty-state" data-testid="voice-placeholder">
        <span className="empty-state-art">
          <SpeakerIcon size={72} />
        </span>
        <h2>{t('channels.voice.title')}</h2>
        <p>{t('channels.voice.body')}</p>
      </section>
    </>
  );
}
