import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useAuth } from '../state/context';

/** How long a (first) connection may take before we say so. */
const SLOW_CONNECT_MS = 1_000;

/**
 * "Reconnecting…" strip at the top of the app while the real-time connection
 * is down. The live region stays in the page (hidden) so that screen readers
 * announce the text when it appears.
 */
export function GatewayBanner({ floating = false }: { floating?: boolean }) {
  const { t } = useTranslation();
  const { connection } = useAuth();
  const [slow, setSlow] = useState(false);

  useEffect(() => {
    setSlow(false);
    if (connection !== 'connecting') return;
    const timer = setTimeout(() => setSlow(true), SLOW_CONNECT_MS);
    return () => clearTimeout(timer);
  }, [connection]);

  const visible = connection === 'reconnecting' || (connection === 'connecting' && slow);
  return (
    <div
      className={floating ? 'gateway-banner gateway-banner-floating' : 'gateway-banner'}
      role="status"
      data-testid="gateway-banner"
      data-state={connection}
      hidden={!visible}
    >
      {visible && (
        <>
          <span className="gateway-banner-spinner" aria-hidden="true" />
          <span>{connection === 'reconnecting' ? t('gateway.reconnecting') : t('gateway.connecting')}</span>
        </>
      )}
    </div>
  );
}
