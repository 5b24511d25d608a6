import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from './client';
import { ApiError } from './errors';
import { createModerationApi, reasonHeaders } from './moderation';
import { MemoryStorage } from '../testing/memoryStorage';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

function json(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

function setup(handler: (call: Call) => Response = () => new Response(null, { status: 204 })) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (url: string, init?: RequestInit) => {
    const call: Call = {
      url,
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    return handler(call);
  });
  const client = new ApiClient({ fetch, storage: new MemoryStorage(), proactiveRefresh: false });
  client.setSession({ user: { id: '1' } as never, access_token: 'a', refresh_token: 'r', expires_in: 900 });
  return { api: createModerationApi(client), calls };
}

const user = (id: string) => ({ id, username: `u${id}`, display_name: null });
const member = (id: string) => ({ user: user(id), nickname: null, roles: [], joined_at: '2026-01-01T00:00:00Z', timeout_until: null });

describe('reasonHeaders', () => {
  it('URL-encodes the reason into X-Audit-Log-Reason', () => {
    expect(reasonHeaders('spam & não')).toEqual({ 'X-Audit-Log-Reason': 'spam%20%26%20n%C3%A3o' });
  });

  it('puts a reason typed on several lines on one (the server keeps one line)', () => {
    expect(reasonHeaders('Spamming links\n\n  second line\tthird')).toEqual({
      'X-Audit-Log-Reason': encodeURIComponent('Spamming links second line third'),
    });
  });

  it('sends no header for an empty reason and cuts long ones to 512 characters', () => {
    expect(reasonHeaders('   ')).toBeUndefined();
    expect(reasonHeaders(undefined)).toBeUndefined();
    const long = reasonHeaders('é'.repeat(600))?.['X-Audit-Log-Reason'] ?? '';
    expect(decodeURIComponent(long)).toBe('é'.repeat(512));
  });
});

describe('moderation routes', () => {
  it('kicks with the reason header and encodes ids', async () => {
    const t = setup();
    await t.api.membersApi.kick('10', '2/3', 'flooding');
    expect(t.calls[0]).toMatchObject({
      url: '/api/v1/servers/10/members/2%2F3',
      method: 'DELETE',
      headers: { 'X-Audit-Log-Reason': 'flooding', Authorization: 'Bearer a' },
    });
  });

  it('bans with reason and delete_message_secs in the body', async () => {
    const t = setup();
    await t.api.bansApi.ban('10', '2', { reason: 'spam', delete_message_secs: 3600 });
    expect(t.calls[0]).toMatchObject({
      url: '/api/v1/servers/10/bans/2',
      method: 'PUT',
      body: { reason: 'spam', delete_message_secs: 3600 },
    });
  });

  it('bans with a reason typed on several lines put on one', async () => {
    const t = setup();
    await t.api.bansApi.ban('10', '2', { reason: 'spam\r\nagain' });
    expect(t.calls[0]).toMatchObject({ body: { reason: 'spam again' } });
  });

  it('times out through PATCH member, normalizing the answer', async () => {
    const t = setup(() => json(200, { ...member('2'), timeout_until: '2026-01-01T00:01:00Z' }));
    const updated = await t.api.membersApi.update('10', '2', { timeout_until: '2026-01-01T00:01:00Z' }, 'calm down');
    expect(t.calls[0]).toMatchObject({
      method: 'PATCH',
      url: '/api/v1/servers/10/members/2',
      body: { timeout_until: '2026-01-01T00:01:00Z' },
      headers: { 'X-Audit-Log-Reason': 'calm%20down' },
    });
    // The REST answer may lack server_id: it is filled in.
    expect(updated.server_id).toBe('10');
    expect(updated.user.bio).toBeNull();
  });

  it('transfers ownership through PATCH server with owner_id', async () => {
    const server = { id: '10', name: 'S', description: null, icon: null, owner_id: '2', created_at: '2026-01-01T00:00:00Z' };
    const t = setup(() => json(200, server));
    const updated = await t.api.membersApi.transferOwnership('10', '2/3');
    expect(t.calls).toHaveLength(1);
    expect(t.calls[0]).toMatchObject({
      method: 'PATCH',
      url: '/api/v1/servers/10',
      body: { owner_id: '2/3' },
      headers: { Authorization: 'Bearer a' },
    });
    expect(t.calls[0]?.body).toEqual({ owner_id: '2/3' });
    expect(updated).toEqual(server);
  });

  it('puts, deletes and syncs channel overwrites', async () => {
    const t = setup();
    await t.api.overwritesApi.put('c1', 'r1', { type: 'role', allow: '1024', deny: '2048' });
    await t.api.overwritesApi.remove('c1', 'r1');
    await t.api.overwritesApi.sync('c1');
    expect(t.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'PUT /api/v1/channels/c1/permissions/r1',
      'DELETE /api/v1/channels/c1/permissions/r1',
      'POST /api/v1/channels/c1/permissions/sync',
    ]);
    expect(t.calls[0]?.body).toEqual({ type: 'role', allow: '1024', deny: '2048' });
  });

  it('creates, previews, accepts and revokes invites', async () => {
    const t = setup(() => json(200, {}));
    await t.api.invitesApi.create('10', { max_age_secs: 0, max_uses: 5 });
    await t.api.invitesApi.preview('abc');
    await t.api.invitesApi.accept('abc');
    await t.api.invitesApi.revoke('abc');
    expect(t.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'POST /api/v1/servers/10/invites',
      'GET /api/v1/invites/abc',
      'POST /api/v1/invites/abc/accept',
      'DELETE /api/v1/invites/abc',
    ]);
    expect(t.calls[0]?.body).toEqual({ max_age_secs: 0, max_uses: 5 });
  });

  it('maps invite errors to their codes', async () => {
    const t = setup(() => json(410, { code: 'invite_expired', message: 'expired' }));
    const err = await t.api.invitesApi.accept('old').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('invite_expired');
  });

  it('builds the audit log query, leaving out empty filters', async () => {
    const t = setup(() => json(200, { entries: [], users: [] }));
    await t.api.auditLogApi.list('10', { before: '99', limit: 50, action: 'member_ban_add' });
    await t.api.auditLogApi.list('10', { action: '' });
    expect(t.calls[0]?.url).toBe('/api/v1/servers/10/audit-log?before=99&limit=50&action=member_ban_add');
    expect(t.calls[1]?.url).toBe('/api/v1/servers/10/audit-log');
  });

  it('updates roles with a position', async () => {
    const t = setup(() => json(200, {}));
    await t.api.rolesApi.update('10', 'r1', { position: 3 });
    expect(t.calls[0]).toMatchObject({ method: 'PATCH', url: '/api/v1/servers/10/roles/r1', body: { position: 3 } });
  });
});

describe('membersApi.listAll', () => {
  it('pages with `after` until a short page', async () => {
    const pages = [[member('1'), member('2')], [member('3'), member('4')], [member('5')]];
    const t = setup(() => json(200, pages.shift() ?? []));
    const seen: number[] = [];
    const result = await t.api.membersApi.listAll('10', { limit: 2, onPage: (p) => seen.push(p.length) });
    expect(result.complete).toBe(true);
    expect(result.members.map((m) => m.user.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(seen).toEqual([2, 2, 1]);
    expect(t.calls.map((c) => c.url)).toEqual([
      '/api/v1/servers/10/members?limit=2',
      '/api/v1/servers/10/members?after=2&limit=2',
      '/api/v1/servers/10/members?after=4&limit=2',
    ]);
  });

  it('stops after maxPages and says the list is incomplete', async () => {
    let n = 0;
    const t = setup(() => json(200, [member(String(++n)), member(String(++n))]));
    const result = await t.api.membersApi.listAll('10', { limit: 2, maxPages: 2 });
    expect(result.complete).toBe(false);
    expect(result.members).toHaveLength(4);
    expect(t.calls).toHaveLength(2);
  });

  it('drops malformed members', async () => {
    const t = setup(() => json(200, [member('1'), { user: null }, 'x']));
    const result = await t.api.membersApi.listAll('10');
    expect(result.members.map((m) => m.user.id)).toEqual(['1']);
  });
});
