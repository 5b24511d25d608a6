import { useMatch } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { UsersIcon } from '../communityIcons';
import { useShell } from '../shell';
import './members.css';

/** The channel header's button showing / hiding the member list (only inside a server). */
export function MemberListToggle() {
  const { t } = useTranslation();
  const { memberList } = useShell();
  const inServer = useMatch('/app/servers/:serverId/*');
  if (!inServer) return null;
  const label = memberList.open ? t('members.hideList') : t('members.showList');
  return (
    <button
      type="button"
      className={memberList.open ? 'icon-button member-list-toggle member-list-toggle-on' : 'icon-button member-list-toggle'}
      onClick={memberList.toggle}
      aria-pressed={memberList.open}
      aria-controls={memberList.open ? 'member-list' : undefined}
      aria-label={label}
      title={label}
      data-testid="member-list-toggle"
    >
      <UsersIcon size={20} />
    </button>
  );
}
