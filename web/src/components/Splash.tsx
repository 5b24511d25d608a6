import { useTranslation } from 'react-i18next';
import { PapoLogo } from './icons';

interface SplashProps {
  error?: boolean;
  onRetry?: () => void;
}

/** Full-screen loading (or connection error) screen. */
export function Splash({ error = false, onRetry }: SplashProps) {
  const { t } = useTranslation();
  return (
    <div className="splash" role={error ? 'alert' : 'status'} aria-live="polite">
      <span className="splash-logo">
        <PapoLogo size={56} />
      </span>
      {error ? (
        <>
          <p>{t('app.connectionError')}</p>
          {onRetry && (
            <button type="button" className="button button-primary" onClick={onRetry}>
              {t('app.retry')}
            </button>
          )}
        </>
      ) : (
        <p>{t('app.loading')}</p>
      )}
    </div>
  );
}
