import { Link, useLocation } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { AuthCard } from '../components/AuthCard';
import { LoginForm } from '../components/LoginForm';
import { safeReturnPath } from '../state/returnPath';
import { useDocumentTitle } from '../components/useDocumentTitle';

export function LoginPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('auth.submitLogin'));
  const location = useLocation();
  // Coming from an invite link: say why, and keep the way back when switching to register.
  const from = safeReturnPath((location.state as { from?: unknown } | null)?.from);
  return (
    <AuthCard
      title={t('auth.loginTitle')}
      subtitle={from?.startsWith('/invite/') ? t('invites.page.loginToJoin') : t('auth.loginSubtitle')}
      footer={
        <>
          {t('auth.needAccount')}{' '}
          <Link to="/register" state={from ? { from } : undefined}>
            {t('auth.registerLink')}
          </Link>
        </>
      }
    >
      <LoginForm />
    </AuthCard>
  );
}
