import type { CSSProperties } from 'react';
import { useTranslation } from 'react-i18next';
import type { PublicUser } from '../api/types';
import type { ObservedStatus } from '../gateway/protocol';

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
  /** Shows a presence dot (with an accessible label) in the bottom-right corner. */
  status?: ObservedStatus | undefined;
}

/** The user's initial on their accent colour (avatars images come later). */
export function Avatar({ user, size = 32, status }: AvatarProps) {
  const initial = Array.from(displayNameOf(user))[0]?.toUpperCase() ?? '?';
  const background = accentToCss(user.accent_color);
  const face = (
    <span
      className="avatar"
      aria-hidden="true"
      style={{ width: size, height: size, fontSize: size * 0.45, ...(background ? { background } : {}) }}
    >
      {initial}
    </span>
  );
  if (!status) return face;
  return (
    <span className="avatar-with-status" style={{ width: size, height: size }}>
      {face}
      <PresenceDot status={status} size={Math.max(8, Math.round(size * 0.3))} positioned />
    </span>
  );
}

interface PresenceDotProps {
  status: ObservedStatus;
  /** Diameter of the coloured part, px. */
  size?: number;
  /** In an avatar's corner (with a ring), or inline. */
  positioned?: boolean;
  /** Decorative (next to a visible label). */
  decorative?: boolean;
}

/**
 * Online: green; idle: yellow crescent; do not disturb: red with a bar;
 * offline / invisible: grey and hollow. The shape differs too, not only the colour.
 */
export function PresenceDot({ status, size = 10, positioned = false, decorative = false }: PresenceDotProps) {
  const { t } = useTranslation();
  const label = t(`presence.status.${status}`);
  const ring = positioned ? Math.max(2, Math.round(size * 0.3)) : 0;
  const shape = status === 'invisible' ? 'offline' : status;
  return (
    <span
      className={`presence-dot presence-${shape}${positioned ? ' presence-dot-positioned' : ''}`}
      style={{ width: size + 2 * ring, height: size + 2 * ring, borderWidth: ring }}
      data-status={status}
      {...(decorative
        ? { 'aria-hidden': true }
        : { role: 'img', 'aria-label': label, title: label, 'data-testid': 'presence-dot' })}
    />
  );
}

/**
 * The style of text in a role's colour, kept readable in either theme: its OKLCH lightness is
 * held within the theme's `--role-l-min`…`--role-l-max` (a role's own colour can be anything:
 * a dark blue name on the dark panel read at 2:1; now 4.5:1 or more).
 */
export function roleTextStyle(color: number | null | undefined): CSSProperties | undefined {
  const css = accentToCss(color);
  return css ? { color: `oklch(from ${css} clamp(var(--role-l-min), l, var(--role-l-max)) c h)` } : undefined;
}
