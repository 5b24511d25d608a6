import { api } from '../api';
import { GatewayClient, gatewayUrl, type GatewayInfo, type GatewayState } from './client';

export { GatewayClient, gatewayUrl } from './client';
export type { GatewayState, GatewayInfo, GatewayEventMap } from './client';
export type * from './protocol';

/** What the app (the state provider) plugs into the gateway. */
export const gatewayHooks = {
  /** A lost session was replaced by a new one: re-fetch state over REST. */
  onResync: (): void => {},
  /** The tokens are gone for good (refresh refused): log out locally. */
  lost: (): void => {},
};

/** The one gateway connection of the app; started by the state provider once logged in. */
export const gateway = new GatewayClient({
  url: () => gatewayUrl(window.location),
  auth: {
    token: () => {
      const tokens = api.tokens.get();
      return tokens
        ? { accessToken: tokens.accessToken, refreshAt: tokens.refreshAt, expiresAt: tokens.expiresAt }
        : null;
    },
    refresh: () => api.refresh(),
    lost: () => gatewayHooks.lost(),
  },
  onResync: () => gatewayHooks.onResync(),
});

/** A read-only view plus a simulated network drop, used by the browser tests. */
export interface GatewayDebugHook {
  readonly state: GatewayState;
  /** The last state changes, oldest first. */
  readonly states: readonly GatewayState[];
  info(): GatewayInfo;
  debugDrop(): void;
}

declare global {
  interface Window {
    __papoGateway?: GatewayDebugHook;
  }
}

if (typeof window !== 'undefined') {
  const states: GatewayState[] = [];
  gateway.on('state', (state) => {
    states.push(state);
    if (states.length > 50) states.shift();
  });
  // Harmless in production: it only reveals the connection state and can
  // only cause a reconnect (which resumes the same session).
  window.__papoGateway = {
    get state() {
      return gateway.state;
    },
    get states() {
      return [...states];
    },
    info: () => gateway.info(),
    debugDrop: () => gateway.debugDrop(),
  };
}
