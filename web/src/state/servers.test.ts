import { describe, expect, it } from 'vitest';
import type { Channel, ServerDetail } from '../api/types';
import {
  actionForEvent,
  channelPath,
  compareIds,
  defaultChannel,
  groupChannels,
  normalizeChannelName,
  resolveServerRoute,
  serverInitials,
  serversFromReady,
  serversReducer,
  type ServerList,
} from './servers';

function channel(id: string, fields: Partial<Channel> = {}): Channel {
  return {
    id,
    server_id: 's1',
    kind: 'text',
    name: `c${id}`,
    position: 0,
    parent_id: null,
    topic: null,
    slowmode_secs: 0,
    user_limit: null,
    bitrate: null,
    overwrites: [],
    last_message_id: null,
    ...fields,
  };
}

function server(id: string, channels: Channel[] = [], fields: Partial<ServerDetail> = {}): ServerDetail {
  return {
    id,
    name: `Server ${id}`,
    description: null,
    icon: null,
    owner_id: 'u1',
    created_at: '2026-01-01T00:00:00Z',
    channels: channels.map((c) => ({ ...c, server_id: id })),
    roles: [],
    me: { permissions: '0', roles: [], timeout_until: null },
    large: false,
    ...fields,
  };
}

/** What `POST /servers` creates: #general (0) and General voice (1). */
const fresh = () =>
  server('s1', [
    channel('11', { name: 'general', position: 0 }),
    channel('12', { name: 'General', kind: 'voice', position: 1, user_limit: 0, bitrate: 64000 }),
  ]);

const loaded = (...servers: ServerDetail[]): ServerList =>
  serversReducer(null, { type: 'servers.loaded', servers });

function apply(list: ServerList, t: string, d: unknown): ServerList {
  const action = actionForEvent(t, d);
  if (!action) throw new Error(`no action for ${t}`);
  return serversReducer(list, action);
}

const names = (list: ServerList, id = 's1') => list?.find((s) => s.id === id)?.channels.map((c) => c.name);

describe('servers reducer', () => {
  it('loads the ready list with channels sorted by position', () => {
    const list = loaded(server('s1', [channel('3', { position: 2 }), channel('1', { position: 0 }), channel('2', { position: 1 })]));
    expect(names(list)).toEqual(['c1', 'c2', 'c3']);
  });

  it('server.created adds (once, even after our own POST answer)', () => {
    let list = loaded();
    list = serversReducer(list, { type: 'server.upsert', server: fresh() });
    list = apply(list, 'server.created', fresh());
    expect(list).toHaveLength(1);
    list = apply(list, 'server.created', server('s2'));
    expect(list?.map((s) => s.id)).toEqual(['s1', 's2']);
  });

  it('server.updated merges the server fields and keeps channels, roles and me', () => {
    const before = loaded(fresh());
    const list = apply(before, 'server.updated', {
      id: 's1',
      name: 'Renamed',
      description: 'About',
      icon: null,
      owner_id: 'u1',
      created_at: '2026-01-01T00:00:00Z',
    });
    const s = list?.[0];
    expect(s?.name).toBe('Renamed');
    expect(s?.description).toBe('About');
    expect(s?.channels).toBe(before?.[0]?.channels);
    expect(s?.me).toBe(before?.[0]?.me);
  });

  it('server.deleted removes the server; unknown ids change nothing', () => {
    const list = loaded(fresh(), server('s2'));
    expect(apply(list, 'server.deleted', { id: 's1' })?.map((s) => s.id)).toEqual(['s2']);
    expect(apply(list, 'server.deleted', { id: 'nope' })).toBe(list);
  });

  it('channel.created inserts by position; ties by id', () => {
    let list = loaded(fresh());
    list = apply(list, 'channel.created', channel('14', { name: 'late', position: 3 }));
    list = apply(list, 'channel.created', channel('13', { name: 'leituras-da-semana', position: 0 }));
    expect(names(list)).toEqual(['general', 'leituras-da-semana', 'General', 'late']);
  });

  it('channel.updated replaces the channel and re-sorts on a position change', () => {
    let list = loaded(fresh());
    list = apply(list, 'channel.updated', { ...channel('11', { name: 'general', position: 5, topic: 'Hi' }) });
    expect(names(list)).toEqual(['General', 'general']);
    expect(list?.[0]?.channels[1]?.topic).toBe('Hi');
  });

  it('our own overwrite change is kept only for a channel we still see (no ghost channel)', () => {
    const overwrites = [{ id: 's1', type: 'role' as const, allow: '0', deny: '1024' }];
    let list = loaded(fresh());
    list = serversReducer(list, { type: 'channel.overwrites', id: '11', server_id: 's1', overwrites });
    expect(list?.[0]?.channels.find((c) => c.id === '11')?.overwrites).toEqual(overwrites);
    // The change hid #general from us: channel.deleted came before the 204.
    list = apply(list, 'channel.deleted', { id: '11', server_id: 's1' });
    list = serversReducer(list, { type: 'channel.overwrites', id: '11', server_id: 's1', overwrites });
    expect(names(list)).toEqual(['General']);
  });

  it('channel events for unknown servers are ignored', () => {
    const list = loaded(fresh());
    expect(apply(list, 'channel.created', channel('99', { server_id: 'other' }))).toBe(list);
    expect(apply(list, 'channel.deleted', { id: '11', server_id: 'other' })).toBe(list);
  });

  it('channel.deleted removes it; a deleted category frees its channels', () => {
    let list = loaded(
      server('s1', [
        channel('11', { name: 'general', position: 0 }),
        channel('20', { name: 'Books', kind: 'category', position: 2 }),
        channel('21', { name: 'reading', position: 3, parent_id: '20' }),
      ]),
    );
    list = apply(list, 'channel.deleted', { id: '20', server_id: 's1' });
    expect(names(list)).toEqual(['general', 'reading']);
    expect(list?.[0]?.channels[1]?.parent_id).toBeNull();
  });

  it('drops malformed events', () => {
    expect(actionForEvent('channel.created', { id: 1 })).toBeNull();
    expect(actionForEvent('channel.created', { ...channel('1'), kind: 'forum' })).toBeNull();
    expect(actionForEvent('channel.deleted', { id: '1' })).toBeNull();
    expect(actionForEvent('server.deleted', null)).toBeNull();
    expect(actionForEvent('server.created', { id: 's1', name: 'x' })).toBeNull();
    expect(actionForEvent('presence.updated', {})).toBeNull();
  });

  it('events before the list is loaded are ignored, a new server too: the whole list brings it', () => {
    expect(apply(null, 'channel.created', channel('1'))).toBeNull();
    expect(apply(null, 'server.deleted', { id: 's1' })).toBeNull();
    // Joined or created while the gateway was still reconnecting, a server once made a list
    // of itself alone: the rail showed only it, and the REST fallback, seeing a list, did
    // not load the others.
    expect(apply(null, 'server.created', fresh())).toBeNull();
    expect(serversReducer(null, { type: 'server.upsert', server: fresh() })).toBeNull();
  });

  it('parses ready.servers, filling optional fields', () => {
    const raw = [
      {
        id: 's1',
        name: 'A',
        description: null,
        icon: null,
        owner_id: 'u1',
        created_at: 'x',
        channels: [{ id: '2', server_id: 's1', kind: 'voice', name: 'V', position: 1 }, { bogus: true }],
        roles: [],
        me: { permissions: '16', roles: [] },
      },
      { id: 's2' },
    ];
    const servers = serversFromReady(raw);
    expect(servers).toHaveLength(1);
    expect(servers[0]?.channels).toEqual([
      channel('2', { kind: 'voice', name: 'V', position: 1, slowmode_secs: 0 }),
    ]);
    // An older server without me.timeout_until: null.
    expect(servers[0]?.me).toEqual({ permissions: '16', roles: [], timeout_until: null });
    const timedOut = serversFromReady([{ ...raw[0], me: { permissions: '16', roles: [], timeout_until: '2026-05-01T12:00:00Z' } }]);
    expect(timedOut[0]?.me.timeout_until).toBe('2026-05-01T12:00:00Z');
    expect(serversFromReady(undefined)).toEqual([]);
  });
});

describe('routes', () => {
  it('waits for the list', () => {
    expect(resolveServerRoute(null, 's1', null)).toEqual({ status: 'loading' });
  });

  it('opens the first text channel of a server', () => {
    const list = loaded(fresh());
    expect(resolveServerRoute(list, 's1', null)).toEqual({ status: 'redirect', to: channelPath('s1', '11') });
    const ok = resolveServerRoute(list, 's1', '12');
    expect(ok.status === 'ok' && ok.channel?.name).toBe('General');
  });

  it('leaves a deleted open channel for the first text channel', () => {
    let list = loaded(fresh());
    list = apply(list, 'channel.created', channel('13', { name: 'leituras-da-semana', position: 2 }));
    expect(resolveServerRoute(list, 's1', '13').status).toBe('ok');
    list = apply(list, 'channel.deleted', { id: '13', server_id: 's1' });
    expect(resolveServerRoute(list, 's1', '13')).toEqual({ status: 'redirect', to: channelPath('s1', '11') });
  });

  it('when #general itself goes, the next text channel is the default', () => {
    let list = loaded(fresh());
    list = apply(list, 'channel.created', channel('13', { name: 'news', position: 2 }));
    list = apply(list, 'channel.deleted', { id: '11', server_id: 's1' });
    expect(resolveServerRoute(list, 's1', '11')).toEqual({ status: 'redirect', to: channelPath('s1', '13') });
  });

  it('goes home when the open server is deleted or left', () => {
    let list = loaded(fresh());
    list = apply(list, 'server.deleted', { id: 's1' });
    expect(resolveServerRoute(list, 's1', '11')).toEqual({ status: 'redirect', to: '/app' });
  });

  it('never opens a category', () => {
    const list = loaded(server('s1', [channel('20', { kind: 'category' }), channel('21', { parent_id: '20', position: 1 })]));
    expect(resolveServerRoute(list, 's1', '20')).toEqual({ status: 'redirect', to: channelPath('s1', '21') });
  });

  it('a server without visible channels shows itself', () => {
    const list = loaded(server('s1'));
    expect(resolveServerRoute(list, 's1', null).status).toBe('ok');
    expect(resolveServerRoute(list, 's1', 'gone')).toEqual({ status: 'redirect', to: '/app/servers/s1' });
  });
});

describe('channel groups', () => {
  it('puts uncategorised text, then voice, then categories by position', () => {
    const channels = [
      channel('1', { name: 'general', position: 0 }),
      channel('2', { name: 'General', kind: 'voice', position: 1 }),
      channel('3', { name: 'Books', kind: 'category', position: 5 }),
      channel('4', { name: 'Music', kind: 'category', position: 2 }),
      channel('5', { name: 'reading', position: 7, parent_id: '3' }),
      channel('6', { name: 'reviews', position: 6, parent_id: '3' }),
      channel('7', { name: 'lofi', kind: 'voice', position: 3, parent_id: '4' }),
      channel('8', { name: 'orphan', position: 9, parent_id: 'hidden-category' }),
    ];
    const groups = groupChannels(channels);
    expect(groups.map((g) => [g.key, g.channels.map((c) => c.name)])).toEqual([
      ['text', ['general', 'orphan']],
      ['voice', ['General']],
      ['4', ['lofi']],
      ['3', ['reviews', 'reading']],
    ]);
    expect(defaultChannel({ channels })?.name).toBe('general');
  });

  it('keeps empty categories', () => {
    expect(groupChannels([channel('3', { kind: 'category' })]).map((g) => g.key)).toEqual(['3']);
  });
});

describe('names', () => {
  it('normalises text channel names like the server', () => {
    expect(normalizeChannelName('text', 'Leituras da Semana')).toBe('leituras-da-semana');
    expect(normalizeChannelName('text', '  Off   Topic \t Talk ')).toBe('off-topic-talk');
    expect(normalizeChannelName('text', 'ÉPOCA Ação')).toBe('época-ação');
    expect(normalizeChannelName('text', '#Avisos Gerais'), 'the # is drawn already').toBe('avisos-gerais');
    expect(normalizeChannelName('text', '   ')).toBe('');
    expect(normalizeChannelName('voice', '  Sala de Estar ')).toBe('Sala de Estar');
    expect(normalizeChannelName('category', ' Matérias ')).toBe('Matérias');
  });

  it('makes initials for the rail', () => {
    expect(serverInitials('Clube do Livro')).toBe('CdL');
    expect(serverInitials('  papo ')).toBe('p');
    expect(serverInitials('A B C D')).toBe('ABC');
    expect(serverInitials('😀 Fun')).toBe('😀F');
    expect(serverInitials('')).toBe('?');
  });

  it('compares ids as numbers', () => {
    expect(compareIds('9', '10')).toBeLessThan(0);
    expect(compareIds('117804233704603649', '117804233704603650')).toBeLessThan(0);
    expect(compareIds('5', '5')).toBe(0);
  });
});

describe('roles and my permissions', () => {
  const everyone = { id: 's1', server_id: 's1', name: '@everyone', color: null, position: 0, permissions: '1024', hoist: false, mentionable: false };
  const modRole = { id: 'r1', server_id: 's1', name: 'Mods', color: 0xff00, position: 1, permissions: '16', hoist: true, mentionable: false };
  const base = () =>
    loaded(
      server('s1', [channel('11', { overwrites: [{ id: 'r1', type: 'role', allow: '0', deny: '1024' }] })], {
        owner_id: 'owner',
        roles: [everyone],
        me: { permissions: '1024', roles: [], timeout_until: null },
      }),
    );

  it('adds and updates roles from events, highest first', () => {
    let list = apply(base(), 'role.created', modRole);
    expect(list?.[0]?.roles.map((r) => r.id)).toEqual(['r1', 's1']);
    list = apply(list, 'role.updated', { ...modRole, name: 'Moderators' });
    expect(list?.[0]?.roles.find((r) => r.id === 'r1')?.name).toBe('Moderators');
    expect(list?.[0]?.roles).toHaveLength(2);
    expect(actionForEvent('role.created', { id: 'x' })).toBeNull();
  });

  it('recomputes me.permissions when my roles change (member.updated about me)', () => {
    let list = apply(base(), 'role.created', modRole);
    const me = { server_id: 's1', user: { id: 'me', username: 'me' }, nickname: null, roles: ['r1'], joined_at: '', timeout_until: null };
    const action = actionForEvent('member.updated', me, 'me');
    expect(action).toEqual({ type: 'me.roles', server_id: 's1', self_id: 'me', roles: ['r1'], timeout_until: null });
    list = serversReducer(list, action!);
    expect(list?.[0]?.me).toEqual({ roles: ['r1'], permissions: String(1024 | 16), timeout_until: null });
    // Someone else's update, or no self id: not about me.
    expect(actionForEvent('member.updated', { ...me, user: { id: 'other', username: 'o' } }, 'me')).toBeNull();
    expect(actionForEvent('member.updated', me)).toBeNull();
  });

  it('keeps my timeout from member.updated about me (set and lifted)', () => {
    const me = { server_id: 's1', user: { id: 'me', username: 'me' }, nickname: null, roles: [], joined_at: '' };
    let list = base();
    expect(list?.[0]?.me.timeout_until).toBeNull();
    list = serversReducer(list, actionForEvent('member.updated', { ...me, timeout_until: '2026-05-01T12:00:00Z' }, 'me')!);
    expect(list?.[0]?.me.timeout_until).toBe('2026-05-01T12:00:00Z');
    // A role change keeps it; a later event without a timeout lifts it.
    list = serversReducer(list, actionForEvent('role.updated', { ...everyone, permissions: '0' }, 'me')!);
    expect(list?.[0]?.me.timeout_until).toBe('2026-05-01T12:00:00Z');
    list = serversReducer(list, { type: 'me.roles', server_id: 's1', self_id: 'me', roles: [] });
    expect(list?.[0]?.me.timeout_until).toBe('2026-05-01T12:00:00Z');
    list = serversReducer(list, actionForEvent('member.updated', me, 'me')!);
    expect(list?.[0]?.me.timeout_until).toBeNull();
  });

  it('an ownership transfer (server.updated owner_id) recomputes my permissions', () => {
    const fields = { id: 's1', name: 'Server s1', description: null, icon: null, created_at: '2026-01-01T00:00:00Z' };
    // I am the owner: every permission.
    let list = serversReducer(base(), { type: 'me.roles', server_id: 's1', self_id: 'owner', roles: [] });
    expect(list?.[0]?.me.permissions).toBe('1100014153727');
    list = serversReducer(list, actionForEvent('server.updated', { ...fields, owner_id: 'other' }, 'owner')!);
    expect(list?.[0]?.owner_id).toBe('other');
    expect(list?.[0]?.me.permissions).toBe('1024');
    // And the new owner gets them all.
    list = serversReducer(list, actionForEvent('server.updated', { ...fields, owner_id: 'owner' }, 'owner')!);
    expect(list?.[0]?.me.permissions).toBe('1100014153727');
    // Same owner (a rename): me untouched.
    const before = list?.[0]?.me;
    list = serversReducer(list, actionForEvent('server.updated', { ...fields, name: 'New', owner_id: 'owner' }, 'owner')!);
    expect(list?.[0]?.me).toBe(before);
  });

  it('recomputes when a role I hold (or @everyone) changes, not for others', () => {
    let list = serversReducer(apply(base(), 'role.created', modRole), { type: 'me.roles', server_id: 's1', self_id: 'me', roles: ['r1'] });
    list = serversReducer(list, actionForEvent('role.updated', { ...modRole, permissions: '32' }, 'me')!);
    expect(list?.[0]?.me.permissions).toBe(String(1024 | 32));
    list = serversReducer(list, actionForEvent('role.updated', { ...everyone, permissions: '0' }, 'me')!);
    expect(list?.[0]?.me.permissions).toBe('32');
  });

  it('a deleted role leaves my roles, its overwrites and the list', () => {
    let list = serversReducer(apply(base(), 'role.created', modRole), { type: 'me.roles', server_id: 's1', self_id: 'me', roles: ['r1'] });
    list = serversReducer(list, actionForEvent('role.deleted', { id: 'r1', server_id: 's1' }, 'me')!);
    const s = list?.[0];
    expect(s?.roles.map((r) => r.id)).toEqual(['s1']);
    expect(s?.me).toEqual({ roles: [], permissions: '1024', timeout_until: null });
    expect(s?.channels[0]?.overwrites).toEqual([]);
  });

  it('the owner keeps every permission', () => {
    let list = base();
    list = serversReducer(list, { type: 'me.roles', server_id: 's1', self_id: 'owner', roles: [] });
    expect(list?.[0]?.me.permissions).toBe('1100014153727');
  });

  it('replaces the roles after a reorder', () => {
    const list = serversReducer(apply(base(), 'role.created', modRole), {
      type: 'roles.loaded',
      server_id: 's1',
      roles: [everyone, { ...modRole, position: 2 }, { ...modRole, id: 'r2', position: 1 }],
    });
    expect(list?.[0]?.roles.map((r) => `${r.id}@${r.position}`)).toEqual(['r1@2', 'r2@1', 's1@0']);
  });
});
