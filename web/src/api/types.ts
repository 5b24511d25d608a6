// Types mirroring docs/api.md (Papo API v1).

import type { CustomStatus, Presence, PresenceStatus } from '../gateway/protocol';

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
  /** The presence chosen, on every device (each new session starts with it). */
  status: PresenceStatus;
  custom_status: CustomStatus | null;
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
  status?: PresenceStatus;
  custom_status?: CustomStatus | null;
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
  /** Permission overwrites (empty when the server sends none). */
  overwrites: Overwrite[];
  /** The newest message's id (null = none, or not sent by the server). */
  last_message_id: string | null;
}

/** A channel permission overwrite for a role or a member. */
export interface Overwrite {
  /** role id or user id */
  id: string;
  type: 'role' | 'member';
  /** decimal strings */
  allow: string;
  deny: string;
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
  server_id: string;
  user: PublicUser;
  nickname: string | null;
  roles: string[];
  joined_at: string;
  timeout_until: string | null;
  /** member lists only: the presence when the list was loaded (large servers push no changes) */
  presence?: Presence;
}

export interface ServerMe {
  /** server-wide permissions, decimal string */
  permissions: string;
  roles: string[];
  /** RFC 3339 while the caller is timed out, else null */
  timeout_until: string | null;
}

export interface ServerDetail extends Server {
  /** only the channels the caller can view */
  channels: Channel[];
  roles: Role[];
  me: ServerMe;
  /** more members than the large-server size: members' presence changes are not pushed */
  large: boolean;
}

export interface ServerCreateInput {
  name: string;
  /** The language of the default channels' names (the UI's). */
  locale?: Locale;
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

// ---------- invites, roles, members, moderation (docs/api.md) ----------

export interface Invite {
  code: string;
  server_id: string;
  inviter_id: string;
  /** 0 = unlimited */
  max_uses: number;
  uses: number;
  expires_at: string | null;
  created_at: string;
}

export interface InvitePreview extends Invite {
  server: Server;
  member_count: number;
  online_count: number;
}

export interface InviteCreateInput {
  /** default 7 days, 0 = never, at most 30 days */
  max_age_secs?: number;
  /** 0 = unlimited, at most 1000 */
  max_uses?: number;
}

export interface RoleCreateInput {
  name?: string;
  color?: number | null;
  permissions?: string;
  hoist?: boolean;
  mentionable?: boolean;
}

export interface RolePatch extends RoleCreateInput {
  position?: number;
}

export interface OverwriteInput {
  type: 'role' | 'member';
  allow: string;
  deny: string;
}

export interface MemberPatch {
  /** null clears it */
  nickname?: string | null;
  /** the full list of role ids */
  roles?: string[];
  /** RFC 3339; null ends a timeout */
  timeout_until?: string | null;
}

export interface Ban {
  user: PublicUser;
  reason: string | null;
  created_at: string;
}

export interface BanInput {
  reason?: string;
  /** 0–604800 */
  delete_message_secs?: number;
}

export interface AuditLogEntry {
  id: string;
  server_id: string;
  actor_id: string;
  target_id: string | null;
  /** `member_ban_add`, `role_update`, … (see state/auditLog.ts) */
  action: string;
  changes: Record<string, unknown> | null;
  reason: string | null;
  created_at: string;
}

export interface AuditLogPage {
  entries: AuditLogEntry[];
  users: PublicUser[];
}

export interface AuditLogQuery {
  before?: string;
  limit?: number;
  action?: string;
  actor_id?: string;
}

// ---------- messages and read states (docs/api.md "Messages", "Read states") ----------

/** One emoji's reactions on a message (REST answers only; `me` = the caller reacted). */
export interface Reaction {
  emoji: string;
  count: number;
  me: boolean;
}

/** The excerpt of the message a reply points to. */
export interface ReferencedMessage {
  id: string;
  author: PublicUser;
  content: string;
}

export interface Message {
  id: string;
  channel_id: string;
  server_id: string;
  author: PublicUser;
  /** raw markdown */
  content: string;
  nonce: string | null;
  created_at: string;
  edited_at: string | null;
  reply_to: string | null;
  /** null for a message that is not a reply, or whose original was deleted */
  referenced_message: ReferencedMessage | null;
  /** user ids */
  mentions: string[];
  /** role ids */
  mention_roles: string[];
  mention_everyone: boolean;
  pinned: boolean;
  /** In REST answers; absent from `message.*` events. */
  reactions?: Reaction[];
}

export interface MessageCreateInput {
  /** 1–4000 characters after trimming */
  content: string;
  /** ≤ 64 characters: the same nonce within 10 minutes returns the original message */
  nonce?: string;
  reply_to?: string;
}

/** `GET /channels/{id}/messages`: at most one of before / after / around; limit 1–100 (default 50). */
export interface MessageQuery {
  before?: string;
  after?: string;
  around?: string;
  limit?: number;
}

export interface ReadState {
  channel_id: string;
  last_read_id: string;
  mention_count: number;
}
