import { Link, useLocation } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { AuthCard } from '../components/AuthCard';
import { RegisterForm } from '../components/RegisterForm';
import { safeReturnPath } from '../state/returnPath';
import { useDocumentTitle } from '../components/useDocumentTitle';

export function RegisterPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('auth.registerTitle'));
  const location = useLocation();
  const from = safeReturnPath((location.state as { from?: unknown } | null)?.from);
  return (
    <AuthCard
      title={t('auth.registerTitle')}
      subtitle={from?.startsWith('/invite/') ? t('invites.page.registerToJoin') : t('auth.registerSubtitle')}
      footer={
        <>
          {t('auth.haveAccount')}{' '}
          <Link to="/login" state={from ? { from } : undefined}>
            {t('auth.loginLink')}
          </Link>
        </>
      }
    >
      <RegisterForm />
    </AuthCard>
  );
}
