// Mentions typed in a message box: the `@name` being typed and the members and roles it may
// mean (the composer's suggestions), and the wire form. Messages carry `<@user id>` and
// `<@&role id>`; the boxes show `@username` and `@Role name`, turned into ids when sent for
// every member of the server and every role the sender may mention it names, and back when
// a message is edited. Pure, no React.

import { computeChannelPermissions, has, type ChannelPermissionInput } from '../../api/permissions';
import type { Member, Role } from '../../api/types';
import { memberDisplayName } from '../../state/members';

/** Longest query looked up (usernames are at most 32 characters). */
const MAX_QUERY = 32;

/** A suggestion: a member, a role, or `@everyone` / `@here`. */
export interface MentionOption {
  key: string;
  /** What goes in the box: `@username`, `@Role name`, `@everyone`, `@here`. */
  insert: string;
  /** The member's name as shown (nickname, display name or username), or `@Role name`. */
  label: string;
  /** The username, shown beside the label (null for a role, everyone, here). */
  username: string | null;
  /** The member (for the avatar), or null. */
  member: Member | null;
  /** The role (for its colour), or null. */
  role?: Role | null;
}

/** The members who can view a channel (the ones worth suggesting: the others would not read the mention). */
export function channelViewers(
  members: readonly Member[],
  server: ChannelPermissionInput['server'],
  overwrites: ChannelPermissionInput['overwrites'],
): Member[] {
  return members.filter((m) =>
    has(computeChannelPermissions({ userId: m.user.id, server, memberRoles: m.roles, overwrites, timeoutUntil: null }), 'view_channel'),
  );
}

/** The roles a sender may mention: mentionable ones, or all with `mention_everyone` (never `@everyone`'s own). */
export function mentionableRoles(roles: readonly Role[], serverId: string, everyone: boolean): Role[] {
  return roles.filter((r) => r.id !== serverId && (r.mentionable || everyone));
}

/** The `@query` just before the caret, if the caret ends a word that starts with `@`. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  let i = caret;
  while (i > 0 && caret - i <= MAX_QUERY && /[\p{L}\p{N}_.-]/u.test(text[i - 1] as string)) i--;
  if (i === 0 || text[i - 1] !== '@' || caret - i > MAX_QUERY) return null;
  const at = i - 1;
  // `@` starts a word, as encodeMentions reads it (not inside a link or an address).
  if (at > 0 && !/[\s([{"']/u.test(text[at - 1] as string)) return null;
  return { start: at, query: text.slice(i, caret) };
}

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/**
 * Up to `limit` suggestions for `query`: members whose username, display name or nickname
 * starts with it (usernames first, then by name), then the roles given (those the sender
 * may mention) whose name starts with it, then `@everyone` and `@here` when the sender may
 * ping everyone.
 */
export function mentionOptions(
  members: readonly Member[],
  query: string,
  options: { everyone: boolean; meId: string; limit?: number; roles?: readonly Role[] },
): MentionOption[] {
  const q = fold(query);
  const limit = options.limit ?? 8;
  const scored: { rank: number; label: string; member: Member }[] = [];
  for (const member of members) {
    if (member.user.id === options.meId) continue;
    const label = memberDisplayName(member);
    const names = [member.user.display_name, member.nickname].filter((n): n is string => !!n).map(fold);
    const rank = fold(member.user.username).startsWith(q) ? 0 : names.some((n) => n.startsWith(q)) ? 1 : -1;
    if (rank >= 0) scored.push({ rank, label, member });
  }
  scored.sort((a, b) => a.rank - b.rank || a.label.localeCompare(b.label) || a.member.user.username.localeCompare(b.member.user.username));
  const out: MentionOption[] = scored.slice(0, limit).map(({ label, member }) => ({
    key: member.user.id,
    insert: `@${member.user.username}`,
    label,
    username: member.user.username,
    member,
  }));
  const roles = (options.roles ?? []).filter((r) => fold(r.name).startsWith(q)).sort((a, b) => b.position - a.position);
  for (const role of roles) {
    if (out.length >= limit) break;
    out.push({ key: `role:${role.id}`, insert: `@${role.name}`, label: `@${role.name}`, username: null, member: null, role });
  }
  if (options.everyone) {
    for (const name of ['everyone', 'here']) {
      if (out.length < limit && name.startsWith(q)) out.push({ key: name, insert: `@${name}`, label: `@${name}`, username: null, member: null });
    }
  }
  return out;
}

/** `text` with `text[start..caret]` replaced by `insert` and a space; the caret after the space. */
export function applyMention(text: string, start: number, caret: number, insert: string): { text: string; caret: number } {
  const after = text.slice(caret);
  const spaced = after.startsWith(' ') ? insert : `${insert} `;
  return { text: text.slice(0, start) + spaced + after, caret: start + insert.length + 1 };
}

/** Calls `plain` on the parts of `text` outside code (`` `…` `` and ``` fences), keeps the rest. */
function outsideCode(text: string, plain: (part: string) => string): string {
  return text
    .split(/(```[\s\S]*?```|`[^`\n]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : plain(part)))
    .join('');
}

/** `@` starts a word: after a space, a line break or an opening bracket or quote (not in the
 * middle of a link such as https://mastodon.social/@carol, nor of an address). */
const WORD_START = /[\s([{"']/u;

/**
 * `@username` of a member of the server (from `idOf`) as `<@id>`, and `@Role name` of one of
 * `roles` (those the sender may mention; a member's username wins) as `<@&id>`, outside code.
 */
export function encodeMentions(
  text: string,
  idOf: (username: string) => string | null,
  roles: readonly Pick<Role, 'id' | 'name'>[] = [],
): string {
  // The longest name first: `@Equipe Dev` is not `@Equipe` followed by " Dev".
  const byLength = [...roles].sort((a, b) => b.name.length - a.name.length);
  return outsideCode(text, (part) =>
    encodeRoles(
      part.replace(/(^|[\s([{"'])@([a-z0-9_.]{2,32})(?![\p{L}\p{N}_])/giu, (whole, before: string, name: string) => {
        // A trailing dot ends the sentence, not the name.
        const trimmed = name.replace(/\.+$/, '');
        const key = trimmed.toLowerCase();
        const id = key === 'everyone' || key === 'here' ? null : idOf(key);
        return id ? `${before}<@${id}>${name.slice(trimmed.length)}` : whole;
      }),
      byLength,
    ),
  );
}

/** `@Role name` (any case, ending where a word does) as `<@&id>`. */
function encodeRoles(part: string, roles: readonly Pick<Role, 'id' | 'name'>[]): string {
  if (roles.length === 0 || !part.includes('@')) return part;
  let out = '';
  let i = 0;
  while (i < part.length) {
    const at = part.indexOf('@', i);
    if (at < 0) break;
    out += part.slice(i, at);
    i = at + 1;
    if (at > 0 && !WORD_START.test(part[at - 1] as string)) {
      out += '@';
      continue;
    }
    const role = roles.find((r) => {
      const end = at + 1 + r.name.length;
      return (
        r.name.length > 0 &&
        part.slice(at + 1, end).toLowerCase() === r.name.toLowerCase() &&
        !/[\p{L}\p{N}_]/u.test(part[end] ?? ' ')
      );
    });
    if (role) {
      out += `<@&${role.id}>`;
      i = at + 1 + role.name.length;
    } else {
      out += '@';
    }
  }
  return out + part.slice(i);
}

/** `<@id>` of a known user as `@username`, `<@&id>` of a known role as `@Role name` (what the boxes show), outside code. */
export function decodeMentions(
  text: string,
  usernameOf: (id: string) => string | null,
  roleNameOf: (id: string) => string | null = () => null,
): string {
  return outsideCode(text, (part) =>
    part.replace(/<@(!|&)?(\d{1,20})>/g, (whole, kind: string | undefined, id: string) => {
      const name = kind === '&' ? roleNameOf(id) : usernameOf(id);
      return name ? `@${name}` : whole;
    }),
  );
}
