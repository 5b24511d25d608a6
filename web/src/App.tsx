import { Navigate, Route, Routes } from 'react-router-dom';
import { AppShell } from './components/AppShell';
import { HomeView } from './components/EmptyState';
import { ServerView } from './components/ServerView';
import { GuestOnly, RequireAuth } from './components/RouteGuards';
import { LandingPage } from './pages/LandingPage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { RegisterPage } from './pages/RegisterPage';
import { ServerOverview, ServerSettingsPage } from './pages/ServerSettingsPage';
import { InvitePage } from './pages/InvitePage';
import {
  ServerAuditLog,
  ServerBansSettings,
  ServerChannelPermissions,
  ServerInvitesSettings,
  ServerRolesSettings,
} from './components/settings-server';
import { AppearanceSettings } from './settings/AppearanceSettings';
import { LanguageSettings } from './settings/LanguageSettings';
import { PasswordSettings } from './settings/PasswordSettings';
import { ProfileSettings } from './settings/ProfileSettings';
import { SessionList } from './settings/SessionList';
import { SettingsPage } from './settings/SettingsPage';

export function App() {
  return (
    <Routes>
      <Route path="/" element={<GuestOnly><LandingPage /></GuestOnly>} />
      <Route path="/login" element={<GuestOnly><LoginPage /></GuestOnly>} />
      <Route path="/register" element={<GuestOnly><RegisterPage /></GuestOnly>} />
      <Route path="/invite/:code" element={<RequireAuth returnHere><InvitePage /></RequireAuth>} />
      <Route path="/app" element={<RequireAuth><AppShell /></RequireAuth>}>
        <Route index element={<HomeView />} />
        <Route path="servers/:serverId" element={<ServerView />} />
        <Route path="servers/:serverId/channels/:channelId" element={<ServerView />} />
      </Route>
      <Route path="/app/servers/:serverId/settings" element={<RequireAuth><ServerSettingsPage /></RequireAuth>}>
        <Route index element={<Navigate to="overview" replace />} />
        <Route path="overview" element={<ServerOverview />} />
        <Route path="roles" element={<ServerRolesSettings />} />
        <Route path="permissions" element={<ServerChannelPermissions />} />
        <Route path="invites" element={<ServerInvitesSettings />} />
        <Route path="bans" element={<ServerBansSettings />} />
        <Route path="audit-log" element={<ServerAuditLog />} />
        <Route path="*" element={<Navigate to="overview" replace />} />
      </Route>
      <Route path="/settings" element={<RequireAuth><SettingsPage /></RequireAuth>}>
        <Route index element={<Navigate to="profile" replace />} />
        <Route path="profile" element={<ProfileSettings />} />
        <Route path="language" element={<LanguageSettings />} />
        <Route path="appearance" element={<AppearanceSettings />} />
        <Route path="sessions" element={<SessionList />} />
        <Route path="password" element={<PasswordSettings />} />
        <Route path="*" element={<Navigate to="profile" replace />} />
      </Route>
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
