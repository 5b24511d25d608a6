import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { PapoLogo } from '../components/icons';

const FEATURES = ['Servers', 'SelfHosted', 'Open'] as const;

export function LandingPage() {
  const { t } = useTranslation();
  return (
    <div className="landing">
      <header className="landing-header">
        <span className="brand">
          <PapoLogo />
          <span className="brand-name">{t('app.name')}</span>
        </span>
        <Link className="button button-light" to="/login">
          {t('landing.login')}
        </Link>
      </header>
      <main className="landing-hero">
        <h1 className="landing-title">{t('app.name')}</h1>
        <p className="landing-tagline">{t('landing.tagline')}</p>
        <p className="landing-pitch">{t('landing.pitch')}</p>
        <div className="landing-actions">
          <Link className="button button-primary button-large" to="/register" data-testid="landing-register">
            {t('landing.register')}
          </Link>
          <Link className="button button-secondary button-large" to="/login" data-testid="landing-login">
            {t('landing.login')}
          </Link>
        </div>
        <ul className="landing-features">
          {FEATURES.map((feature) => (
            <li key={feature} className="landing-feature">
              <h2>{t(`landing.feature${feature}Title`)}</h2>
              <p>{t(`landing.feature${feature}Body`)}</p>
            </li>
          ))}
        </ul>
      </main>
    </div>
  );
}
