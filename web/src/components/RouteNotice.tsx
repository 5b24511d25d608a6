import { useLocation, useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { noticeOf } from '../state/removals';
import { CloseIcon } from './icons';

/**
 * Why the app moved here by itself: the server or channel that was open is gone (deleted,
 * or we were removed or lost sight of it). Carried by the navigation; closing it forgets it.
 */
export function RouteNotice() {
  const { t } = useTranslation();
  const location = useLocation();
  const navigate = useNavigate();
  const notice = noticeOf(location.state);
  if (!notice) return null;
  return (
    <div className="route-notice" role="status" data-testid="route-notice" data-kind={notice.kind}>
      <span>{t(`notices.${notice.kind}`, { name: notice.name })}</span>
      <button
        type="button"
        className="icon-button"
        onClick={() => navigate(location.pathname, { replace: true, state: null })}
        aria-label={t('common.close')}
        title={t('common.close')}
      >
        <CloseIcon size={16} />
      </button>
    </div>
  );
}
