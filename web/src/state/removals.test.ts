import { describe, expect, it } from 'vitest';
import { forgetOwnRemoval, goneNotice, markOwnRemoval, noticeOf, type OpenPlace } from './removals';

const open: OpenPlace = { serverId: 's1', serverName: 'Turma', channelId: 'c1', channelName: 'avisos' };

describe('goneNotice', () => {
  it('says the open server or channel is gone, unless we removed it', () => {
    expect(goneNotice(open, 's1', 'c1', '/app')).toEqual({ kind: 'serverGone', name: 'Turma' });
    expect(goneNotice(open, 's1', 'c1', '/app/servers/s1/channels/c2')).toEqual({ kind: 'channelGone', name: 'avisos' });
    markOwnRemoval('s1');
    expect(goneNotice(open, 's1', 'c1', '/app')).toBeNull();
    forgetOwnRemoval('s1');
    expect(goneNotice(open, 's1', 'c1', '/app')).not.toBeNull();
  });

  it('says nothing about a place that was not open (a link to an unknown server or channel)', () => {
    expect(goneNotice(null, 's1', 'c1', '/app')).toBeNull();
    expect(goneNotice(open, 's2', null, '/app')).toBeNull();
    expect(goneNotice(open, 's1', 'c9', '/app/servers/s1/channels/c2')).toBeNull();
    expect(goneNotice(open, 's1', null, '/app/servers/s1/channels/c2')).toBeNull();
  });

  it('reads a notice back from a navigation state', () => {
    expect(noticeOf({ notice: { kind: 'channelGone', name: 'x' } })).toEqual({ kind: 'channelGone', name: 'x' });
    expect(noticeOf({ notice: { kind: 'other', name: 'x' } })).toBeNull();
    expect(noticeOf(null)).toBeNull();
  });
});
