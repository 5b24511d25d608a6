import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { AuthCard } from '../components/AuthCard';
import { RegisterForm } from '../components/RegisterForm';

export function RegisterPage() {
  const { t } = useTranslation();
  return (
    <AuthCard
      title={t('auth.registerTitle')}
      subtitle={t('auth.registerSubtitle')}
      footer={
        <>
          {t('auth.haveAccount')} <Link to="/login">{t('auth.loginLink')}</Link>
        </>
      }
    >
      <RegisterForm />
    </AuthCard>
  );
}
