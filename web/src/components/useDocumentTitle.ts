import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';

/** The tab's title: `what | Papo` while the component is shown (`Papo` again after). */
export function useDocumentTitle(what: string | null): void {
  const { t, i18n } = useTranslation();
  const app = t('app.title');
  useEffect(() => {
    if (typeof document === 'undefined') return;
    document.title = documentTitle(what, app);
    return () => {
      document.title = app;
    };
  }, [what, app, i18n.language]);
}

/** `what | app`, or `app` alone. */
export function documentTitle(what: string | null, app: string): string {
  return what ? `${what} | ${app}` : app;
}
