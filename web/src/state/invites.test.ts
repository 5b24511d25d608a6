import { describe, expect, it } from 'vitest';
import { inviteErrorCode, inviteUrl, parseInviteCode, usesLeft } from './invites';
import { nicknameValue, timeoutUntil } from './moderationOptions';
import { safeReturnPath } from './returnPath';

describe('parseInviteCode', () => {
  it('accepts a bare code', () => {
    expect(parseInviteCode('aB3xY9kLmn')).toBe('aB3xY9kLmn');
    expect(parseInviteCode('  aB3xY9kLmn \n')).toBe('aB3xY9kLmn');
  });

  it('accepts links to /invite/CODE, with or without the scheme', () => {
    expect(parseInviteCode('https://papo.example/invite/aB3xY9')).toBe('aB3xY9');
    expect(parseInviteCode('http://localhost:5173/invite/aB3xY9/')).toBe('aB3xY9');
    expect(parseInviteCode('papo.example/invite/aB3xY9')).toBe('aB3xY9');
    expect(parseInviteCode('https://papo.example/invite/aB3xY9?utm=x#y')).toBe('aB3xY9');
  });

  it('refuses anything else', () => {
    for (const bad of ['', '   ', 'a', 'not a code', 'https://papo.example/servers/1', 'javascript:alert(1)', 'ftp://h/invite/abc', 'https://h/invite/a%2Fb', 'https://h/invite/abc/extra']) {
      expect(parseInviteCode(bad), bad).toBeNull();
    }
  });

  it('builds the full link', () => {
    expect(inviteUrl('https://papo.example', 'aB3')).toBe('https://papo.example/invite/aB3');
    expect(inviteUrl('https://papo.example/', 'aB3')).toBe('https://papo.example/invite/aB3');
  });

  it('knows the invite error codes', () => {
    expect(inviteErrorCode('invite_used_up')).toBe('invite_used_up');
    expect(inviteErrorCode('banned')).toBe('banned');
    expect(inviteErrorCode('internal_error')).toBeNull();
    expect(inviteErrorCode(undefined)).toBeNull();
  });

  it('counts the uses left', () => {
    expect(usesLeft({ max_uses: 0, uses: 40 })).toBeNull();
    expect(usesLeft({ max_uses: 5, uses: 2 })).toBe(3);
    expect(usesLeft({ max_uses: 5, uses: 9 })).toBe(0);
  });
});

describe('safeReturnPath', () => {
  it('keeps same-origin relative paths', () => {
    expect(safeReturnPath('/invite/abc')).toBe('/invite/abc');
    expect(safeReturnPath('/app/servers/1?x=1#y')).toBe('/app/servers/1?x=1#y');
  });

  it('refuses other hosts, schemes and odd input', () => {
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', 'invite/abc', '', '/a\u0000b', '/a\nb', '/\t/evil.example', null, 42, undefined]) {
      expect(safeReturnPath(bad), String(bad)).toBeNull();
    }
  });
});

describe('moderation options', () => {
  it('computes timeout_until in whole UTC seconds', () => {
    const now = Date.parse('2026-05-01T12:00:00.750Z');
    expect(timeoutUntil(now, 60)).toBe('2026-05-01T12:01:00Z');
    expect(timeoutUntil(now, 7 * 24 * 3600)).toBe('2026-05-08T12:00:00Z');
  });

  it('turns an empty nickname into null (clear)', () => {
    expect(nicknameValue('  ')).toBeNull();
    expect(nicknameValue(' Ana ')).toBe('Ana');
  });
});
