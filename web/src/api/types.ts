// Types mirroring docs/api-contract-draft.md (Papo API v1).

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
