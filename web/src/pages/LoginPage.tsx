import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { AuthCard } from '../components/AuthCard';
import { LoginForm } from '../components/LoginForm';

export function LoginPage() {
  const { t } = useTranslation();
  return (
    <AuthCard
      title={t('auth.loginTitle')}
      subtitle={t('auth.loginSubtitle')}
      footer={
        <>
          {t('auth.needAccount')} <Link to="/register">{t('auth.registerLink')}</Link>
        </>
      }
    >
      <LoginForm />
    </AuthCard>
  );
}
