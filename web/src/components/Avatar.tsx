import type { PublicUser } from '../api/types';

export function accentToCss(color: number | null | undefined): string | undefined {
  if (color === null || color === undefined) return undefined;
  return '#' + (color & 0xffffff).toString(16).padStart(6, '0');
}

export function displayNameOf(user: Pick<PublicUser, 'display_name' | 'username'>): string {
  return user.display_name?.trim() || user.username;
}

interface AvatarProps {
  user: Pick<PublicUser, 'display_name' | 'username' | 'accent_color'>;
  size?: number;
}

/** The user's initial on their accent colour (avatars images come later). */
export function Avatar({ user, size = 32 }: AvatarProps) {
  const initial = Array.from(displayNameOf(user))[0]?.toUpperCase() ?? '?';
  const background = accentToCss(user.accent_color);
  return (
    <span
      className="avatar"
      aria-hidden="true"
      style={{ width: size, height: size, fontSize: size * 0.45, ...(background ? { background } : {}) }}
    >
      {initial}
    </span>
  );
}
