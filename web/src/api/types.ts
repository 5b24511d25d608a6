// Types mirroring docs/api.md (Papo API v1).

export type Locale = 'en' | 'pt-BR';
export type Theme = 'dark' | 'light' | 'system';

export interface PrivacySettings {
  allow_dms: 'everyone' | 'friends' | 'nobody';
  friend_requests: 'everyone' | 'friends_of_friends' | 'nobody';
  show_activity: boolean;
}

export interface AudioVideoSettings {
  input_device: string | null;
  output_device: string | null;
  video_device: string | null;
  input_volume: number;
  output_volume: number;
  noise_suppression: boolean;
  echo_cancellation: boolean;
  push_to_talk: boolean;
}

export interface Settings {
  /** null = follow the browser */
  locale: Locale | null;
  theme: Theme;
  privacy: PrivacySettings;
  audio_video: AudioVideoSettings;
}

export interface PublicUser {
  id: string;
  username: string;
  display_name: string | null;
  bio: string | null;
  pronouns: string | null;
  accent_color: number | null;
  avatar: string | null;
  banner: string | null;
  created_at: string;
}

export interface CurrentUser extends PublicUser {
  email: string;
  settings: Settings;
}

export interface AuthResponse {
  user: CurrentUser;
  access_token: string;
  refresh_token: string;
  /** seconds until access_token expires */
  expires_in: number;
}

export interface Session {
  id: string;
  user_agent: string | null;
  ip: string | null;
  created_at: string;
  last_used_at: string;
  current: boolean;
}

export interface SettingsPatch {
  locale?: Locale | null;
  theme?: Theme;
  privacy?: Partial<PrivacySettings>;
  audio_video?: Partial<AudioVideoSettings>;
}

export interface UserPatch {
  display_name?: string | null;
  bio?: string | null;
  pronouns?: string | null;
  accent_color?: number | null;
  settings?: SettingsPatch;
}

export interface RegisterInput {
  username: string;
  email: string;
  password: string;
  display_name?: string;
}

export interface LoginInput {
  login: string;
  password: string;
}

export interface PasswordChangeInput {
  current_password: string;
  new_password: string;
}

// ---------- servers and channels (docs/api.md "Servers and channels") ----------

export type ChannelKind = 'text' | 'voice' | 'category';

export interface Server {
  id: string;
  name: string;
  description: string | null;
  icon: string | null;
  owner_id: string;
  created_at: string;
}

export interface Channel {
  id: string;
  server_id: string;
  kind: ChannelKind;
  name: string;
  position: number;
  parent_id: string | null;
  topic: string | null;
  slowmode_secs: number;
  /** voice only: 0 (or null) = no limit */
  user_limit: number | null;
  /** voice only: bits per second */
  bitrate: number | null;
}

export interface Role {
  id: string;
  server_id: string;
  name: string;
  color: number | null;
  position: number;
  /** decimal string of a 64-bit field: use BigInt */
  permissions: string;
  hoist: boolean;
  mentionable: boolean;
}

export interface Member {
  user: PublicUser;
  nickname: string | null;
  roles: string[];
  joined_at: string;
  timeout_until: string | null;
}

export interface ServerMe {
  /** server-wide permissions, decimal string */
  permissions: string;
  roles: string[];
}

export interface ServerDetail extends Server {
  /** only the channels the caller can view */
  channels: Channel[];
  roles: Role[];
  me: ServerMe;
}

export interface ServerCreateInput {
  name: string;
}

export interface ServerPatch {
  name?: string;
  description?: string | null;
}

export interface ChannelCreateInput {
  name: string;
  kind: ChannelKind;
  parent_id?: string | null;
  topic?: string | null;
  slowmode_secs?: number;
  user_limit?: number;
  bitrate?: number;
}

export interface ChannelPatch {
  name?: string;
  topic?: string | null;
  parent_id?: string | null;
  position?: number;
  slowmode_secs?: number;
  user_limit?: number;
  bitrate?: number;
}

/** `GET /permissions`: name → decimal bit value. */
export type PermissionTable = Record<string, string>;
