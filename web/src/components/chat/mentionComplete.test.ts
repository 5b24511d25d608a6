import { describe, expect, it } from 'vitest';
import type { Member, Role } from '../../api/types';
import { applyMention, channelViewers, decodeMentions, encodeMentions, mentionableRoles, mentionOptions, mentionQuery } from './mentionComplete';

function member(id: string, username: string, display_name: string | null = null, nickname: string | null = null): Member {
  return {
    server_id: 's',
    user: { id, username, display_name, bio: null, pronouns: null, accent_color: null, avatar: null, banner: null, created_at: '' },
    nickname,
    roles: [],
    joined_at: '',
    timeout_until: null,
  };
}

function role(id: string, name: string, mentionable: boolean, position = 1): Role {
  return { id, server_id: 's', name, color: null, position, permissions: '0', hoist: false, mentionable };
}

const roles = [role('s', '@everyone', false, 0), role('11', 'Equipe', true, 1), role('12', 'Equipe Dev', true, 2), role('13', 'Staff', false, 3)];

const members = [member('1', 'alice'), member('2', 'bob', 'Álvaro'), member('3', 'carol', null, 'Alicia'), member('9', 'me')];
const ids: Record<string, string> = { alice: '1', bob: '2', carol: '3', 'ana.b': '4' };

describe('mentionQuery', () => {
  it('finds the @word ending at the caret', () => {
    expect(mentionQuery('hi @al', 6)).toEqual({ start: 3, query: 'al' });
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('(@bo', 4)).toEqual({ start: 1, query: 'bo' });
    // Not an email address, not past the word, not a word without @.
    expect(mentionQuery('me@al', 5)).toBeNull();
    expect(mentionQuery('https://x.social/@al', 20)).toBeNull();
    expect(mentionQuery('a\n@al', 5)).toEqual({ start: 2, query: 'al' });
    expect(mentionQuery('@al x', 5)).toBeNull();
    expect(mentionQuery('hello', 5)).toBeNull();
    expect(mentionQuery(`@${'a'.repeat(40)}`, 41)).toBeNull();
  });
});

describe('mentionOptions', () => {
  it('matches usernames first, then display names and nicknames, accents aside, never oneself', () => {
    const got = mentionOptions(members, 'al', { everyone: false, meId: '9' });
    expect(got.map((o) => o.insert)).toEqual(['@alice', '@carol', '@bob']);
    expect(got.map((o) => o.label)).toEqual(['alice', 'Alicia', 'Álvaro']);
    expect(mentionOptions(members, 'm', { everyone: false, meId: '9' })).toEqual([]);
  });

  it('offers @everyone and @here only to those who may ping them', () => {
    expect(mentionOptions(members, 'e', { everyone: true, meId: '9' }).map((o) => o.insert)).toEqual(['@everyone']);
    expect(mentionOptions(members, 'e', { everyone: false, meId: '9' })).toEqual([]);
    // By the name shown: alice, Alicia (carol), Álvaro (bob).
    expect(mentionOptions(members, '', { everyone: true, meId: '9', limit: 4 }).map((o) => o.insert)).toEqual([
      '@alice',
      '@carol',
      '@bob',
      '@everyone',
    ]);
  });
});

describe('applyMention', () => {
  it('replaces the query with the mention and a space', () => {
    expect(applyMention('hi @al', 3, 6, '@alice')).toEqual({ text: 'hi @alice ', caret: 10 });
    // Before a space already there: the caret after it, past the word (the list closes).
    expect(applyMention('hi @al there', 3, 6, '@alice')).toEqual({ text: 'hi @alice there', caret: 10 });
  });
});

describe('encodeMentions / decodeMentions', () => {
  const idOf = (name: string) => ids[name] ?? null;
  const nameOf = (id: string) => Object.entries(ids).find(([, v]) => v === id)?.[0] ?? null;

  it('turns members’ @usernames into <@id>, and only those', () => {
    expect(encodeMentions('hi @alice and @Bob, @nobody', idOf)).toBe('hi <@1> and <@2>, @nobody');
    expect(encodeMentions('@carol. @ana.b!', idOf)).toBe('<@3>. <@4>!');
    expect(encodeMentions('mail me@alice.com', idOf)).toBe('mail me@alice.com');
    expect(encodeMentions('https://mastodon.social/@carol (@bob)', idOf)).toBe('https://mastodon.social/@carol (<@2>)');
    expect(encodeMentions('line\n@alice', idOf)).toBe('line\n<@1>');
    expect(encodeMentions('@everyone @here', () => '7')).toBe('@everyone @here');
  });

  it('leaves code alone', () => {
    expect(encodeMentions('`@alice` @alice ```\n@bob\n```', idOf)).toBe('`@alice` <@1> ```\n@bob\n```');
  });

  it('shows <@id> as @username for editing, and back', () => {
    const wire = 'oi <@1> e <@!2>, <@99>';
    const shown = decodeMentions(wire, nameOf);
    expect(shown).toBe('oi @alice e @bob, <@99>');
    expect(encodeMentions(shown, idOf)).toBe('oi <@1> e <@2>, <@99>');
  });
});

describe('role mentions', () => {
  it('are offered for the roles the sender may mention, after the members', () => {
    expect(mentionableRoles(roles, 's', false).map((r) => r.id)).toEqual(['11', '12']);
    expect(mentionableRoles(roles, 's', true).map((r) => r.id)).toEqual(['11', '12', '13']);
    const got = mentionOptions(members, 'eq', { everyone: false, meId: '9', roles: mentionableRoles(roles, 's', false) });
    expect(got.map((o) => o.insert)).toEqual(['@Equipe Dev', '@Equipe']);
    expect(got[0]?.role?.id).toBe('12');
  });

  it('go out as <@&id>, the longest name first, and come back for editing', () => {
    const idOf = (name: string) => (name === 'alice' ? '1' : null);
    const mentionable = mentionableRoles(roles, 's', false);
    expect(encodeMentions('@Equipe Dev e @equipe, @Staff, x@Equipe @Equipes', idOf, mentionable)).toBe(
      '<@&12> e <@&11>, @Staff, x@Equipe @Equipes',
    );
    expect(encodeMentions('`@Equipe` @alice @Equipe', idOf, mentionable)).toBe('`@Equipe` <@1> <@&11>');
    const nameOf = (id: string) => mentionable.find((r) => r.id === id)?.name ?? null;
    const shown = decodeMentions('<@&12> <@&13> <@1>', (id) => (id === '1' ? 'alice' : null), nameOf);
    expect(shown).toBe('@Equipe Dev <@&13> @alice');
    expect(encodeMentions(shown, idOf, mentionable)).toBe('<@&12> <@&13> <@1>');
  });
});

describe('channelViewers', () => {
  it('keeps the members who can view the channel', () => {
    const VIEW = (1n << 10n).toString();
    const server = { id: 's', owner_id: '9', roles: [{ id: 's', permissions: VIEW }, { id: '11', permissions: '0' }] };
    const staff = { ...member('3', 'carol'), roles: ['11'] };
    const all = [member('1', 'alice'), member('2', 'bob'), staff, member('9', 'me')];
    // @everyone denied, the staff role allowed, bob allowed on his own; the owner sees all.
    const overwrites = [
      { id: 's', type: 'role' as const, allow: '0', deny: VIEW },
      { id: '11', type: 'role' as const, allow: VIEW, deny: '0' },
      { id: '2', type: 'member' as const, allow: VIEW, deny: '0' },
    ];
    expect(channelViewers(all, server, overwrites).map((m) => m.user.username)).toEqual(['bob', 'carol', 'me']);
    expect(channelViewers(all, server, [])).toHaveLength(4);
  });
});
