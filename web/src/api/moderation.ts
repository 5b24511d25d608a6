// Community management routes (docs/api.md "Invites", "Roles and channel
// permission overwrites", "Members and moderation"). Built on an ApiClient so
// that tests can pass one with a fake fetch; the app's instances are in index.ts.

import type { ApiClient } from './client';
import { isMember, normalizeMember } from './guards';
import type {
  AuditLogPage,
  AuditLogQuery,
  Ban,
  BanInput,
  Channel,
  Invite,
  InviteCreateInput,
  InvitePreview,
  Member,
  MemberPatch,
  OverwriteInput,
  Role,
  RoleCreateInput,
  RolePatch,
  Server,
  ServerDetail,
} from './types';

const id = (value: string) => encodeURIComponent(value);

/** The most characters of an audit log reason the server keeps. */
export const AUDIT_REASON_MAX = 512;

/** The field the server names for a refused `X-Audit-Log-Reason`. */
export const REASON_HEADER_FIELD = 'x-audit-log-reason';

/**
 * A reason as the server keeps it: one line (the audit log shows it on one; line breaks and
 * tabs become spaces), trimmed, cut to 512 characters.
 */
export function oneLineReason(reason: string | null | undefined): string {
  return Array.from((reason ?? '').replace(/\s*[\r\n\t]+\s*/g, ' ').trim())
    .slice(0, AUDIT_REASON_MAX)
    .join('');
}

/**
 * The `X-Audit-Log-Reason` header for a reason ([`oneLineReason`], URL-encoded); no header
 * for an empty reason.
 */
export function reasonHeaders(reason: string | null | undefined): Record<string, string> | undefined {
  const text = oneLineReason(reason);
  return text ? { 'X-Audit-Log-Reason': encodeURIComponent(text) } : undefined;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Page size and page count of fetchAllMembers (5 × 1000 = up to 5000 members). */
export const MEMBER_PAGE_LIMIT = 1000;
export const MEMBER_MAX_PAGES = 5;

export interface FetchAllMembersOptions {
  limit?: number;
  maxPages?: number;
  /** Each page as it arrives (normalized), to show a long list progressively. */
  onPage?(members: Member[]): void;
  signal?: AbortSignal;
}

export interface MemberListResult {
  members: Member[];
  /** False when the page cap stopped the paging before the end. */
  complete: boolean;
}

export function createModerationApi(client: ApiClient) {
  const invitesApi = {
    /** create_invites: 201 Invite (default 7 days, unlimited uses). */
    create: (serverId: string, input: InviteCreateInput = {}) =>
      client.request<Invite>('POST', `/servers/${id(serverId)}/invites`, { body: input }),
    /** manage_server: the live invites. */
    list: (serverId: string) => client.request<Invite[]>('GET', `/servers/${id(serverId)}/invites`),
    /** manage_server, or the invite's creator. */
    revoke: (code: string) => client.request<void>('DELETE', `/invites/${id(code)}`),
    /** The server behind a code, without joining. */
    preview: (code: string) => client.request<InvitePreview>('GET', `/invites/${id(code)}`),
    /** Joins (already a member: the same answer, no use spent). */
    accept: (code: string) => client.request<ServerDetail>('POST', `/invites/${id(code)}/accept`),
  };

  const rolesApi = {
    /** Highest first, `@everyone` last. */
    list: (serverId: string) => client.request<Role[]>('GET', `/servers/${id(serverId)}/roles`),
    /** manage_roles: placed at position 1. */
    create: (serverId: string, input: RoleCreateInput = {}, reason?: string) =>
      client.request<Role>('POST', `/servers/${id(serverId)}/roles`, { body: input, headers: reasonHeaders(reason) }),
    update: (serverId: string, roleId: string, patch: RolePatch, reason?: string) =>
      client.request<Role>('PATCH', `/servers/${id(serverId)}/roles/${id(roleId)}`, {
        body: patch,
        headers: reasonHeaders(reason),
      }),
    remove: (serverId: string, roleId: string, reason?: string) =>
      client.request<void>('DELETE', `/servers/${id(serverId)}/roles/${id(roleId)}`, { headers: reasonHeaders(reason) }),
  };

  const overwritesApi = {
    /** manage_roles: creates or replaces the overwrite of a role / member. */
    put: (channelId: string, targetId: string, input: OverwriteInput, reason?: string) =>
      client.request<void>('PUT', `/channels/${id(channelId)}/permissions/${id(targetId)}`, {
        body: input,
        headers: reasonHeaders(reason),
      }),
    remove: (channelId: string, targetId: string, reason?: string) =>
      client.request<void>('DELETE', `/channels/${id(channelId)}/permissions/${id(targetId)}`, {
        headers: reasonHeaders(reason),
      }),
    /** manage_roles: gives a channel its category's overwrites, replacing its own. */
    sync: (channelId: string, reason?: string) =>
      client.request<void>('POST', `/channels/${id(channelId)}/permissions/sync`, {
        headers: reasonHeaders(reason),
      }),
    /** manage_channels: bulk reorder. */
    reorderChannels: (serverId: string, positions: { id: string; position: number; parent_id?: string | null }[]) =>
      client.request<Channel[]>('PATCH', `/servers/${id(serverId)}/channels`, { body: positions }),
  };

  const membersApi = {
    /** One page, by user id. */
    list: async (serverId: string, params: { after?: string; limit?: number } = {}, signal?: AbortSignal) => {
      const page = await client.request<unknown>('GET', `/servers/${id(serverId)}/members${query(params)}`, {
        ...(signal ? { signal } : {}),
      });
      return Array.isArray(page) ? page.filter(isMember).map((m) => normalizeMember(m, serverId)) : [];
    },
    get: async (serverId: string, userId: string) =>
      normalizeMember(await client.request<Member>('GET', `/servers/${id(serverId)}/members/${id(userId)}`), serverId),
    /** nickname (change_nickname / manage_nicknames), roles (manage_roles), timeout_until (moderate_members). */
    update: async (serverId: string, userId: string, patch: MemberPatch, reason?: string) =>
      normalizeMember(
        await client.request<Member>('PATCH', `/servers/${id(serverId)}/members/${id(userId)}`, {
          body: patch,
          headers: reasonHeaders(reason),
        }),
        serverId,
      ),
    /** kick_members */
    kick: (serverId: string, userId: string, reason?: string) =>
      client.request<void>('DELETE', `/servers/${id(serverId)}/members/${id(userId)}`, {
        headers: reasonHeaders(reason),
      }),
    /** Owner only: makes a member the owner (`PATCH /servers/{id} {owner_id}`); answers the server. */
    transferOwnership: (serverId: string, userId: string) =>
      client.request<Server>('PATCH', `/servers/${id(serverId)}`, { body: { owner_id: userId } }),
    /**
     * Every member, page after page (`after` = the last user id), until a short
     * page or `maxPages`.
     */
    listAll: async (serverId: string, options: FetchAllMembersOptions = {}): Promise<MemberListResult> => {
      const limit = options.limit ?? MEMBER_PAGE_LIMIT;
      const maxPages = options.maxPages ?? MEMBER_MAX_PAGES;
      const members: Member[] = [];
      let after: string | undefined;
      for (let page = 0; page < maxPages; page++) {
        const batch = await membersApi.list(serverId, { ...(after ? { after } : {}), limit }, options.signal);
        members.push(...batch);
        options.onPage?.(batch);
        const last = batch[batch.length - 1];
        if (batch.length < limit || !last) return { members, complete: true };
        after = last.user.id;
      }
      return { members, complete: false };
    },
  };

  const bansApi = {
    /** ban_members */
    list: (serverId: string) => client.request<Ban[]>('GET', `/servers/${id(serverId)}/bans`),
    /** ban_members: removes the member and deletes their messages from the last `delete_message_secs`. */
    ban: (serverId: string, userId: string, input: BanInput = {}) =>
      client.request<void>('PUT', `/servers/${id(serverId)}/bans/${id(userId)}`, {
        body: typeof input.reason === 'string' ? { ...input, reason: oneLineReason(input.reason) } : input,
      }),
    unban: (serverId: string, userId: string, reason?: string) =>
      client.request<void>('DELETE', `/servers/${id(serverId)}/bans/${id(userId)}`, {
        headers: reasonHeaders(reason),
      }),
  };

  const auditLogApi = {
    /** view_audit_log: newest first, with the users the entries mention. */
    list: (serverId: string, params: AuditLogQuery = {}) =>
      client.request<AuditLogPage>(
        'GET',
        `/servers/${id(serverId)}/audit-log${query({ ...params })}`,
      ),
  };

  return { invitesApi, rolesApi, overwritesApi, membersApi, bansApi, auditLogApi };
}

export type ModerationApi = ReturnType<typeof createModerationApi>;
