// The last channel opened in each server (this tab), so the rail goes back to it.

const lastChannels = new Map<string, string>();

export function rememberChannel(serverId: string, channelId: string): void {
  lastChannels.set(serverId, channelId);
}

export function lastChannel(serverId: string): string | undefined {
  return lastChannels.get(serverId);
}
