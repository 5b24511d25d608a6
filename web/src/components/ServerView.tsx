import { useEffect, useRef } from 'react';
import { Navigate, useParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import type { Channel } from '../api/types';
import { rememberChannel } from '../state/lastChannel';
import { forgetOwnRemoval, goneNotice, type OpenPlace } from '../state/removals';
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

  // What is open, to say what went away when it disappears (and the route moves on).
  const open = useRef<OpenPlace | null>(null);
  const openServer = route.status === 'ok' ? route.server : null;
  useEffect(() => {
    if (!openServer) return;
    forgetOwnRemoval(openServer.id);
    if (openChannel) forgetOwnRemoval(openChannel.id);
    open.current = {
      serverId: openServer.id,
      serverName: openServer.name,
      channelId: openChannel?.id ?? null,
      channelName: openChannel ? (openChannel.kind === 'text' ? `#${openChannel.name}` : openChannel.name) : null,
    };
  }, [openServer, openChannel]);

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
  if (route.status === 'redirect') {
    const notice = goneNotice(open.current, serverId, channelId ?? null, route.to);
    return <Navigate to={route.to} replace state={notice ? { notice } : undefined} />;
  }
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
