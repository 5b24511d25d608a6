import { describe, expect, it } from 'vitest';
import { encodeFrame, isPresence, parseFrame } from './protocol';

describe('parseFrame', () => {
  it('parses the server ops', () => {
    expect(parseFrame('{"op":"hello","d":{"heartbeat_interval_ms":30000}}')).toEqual({
      op: 'hello',
      d: { heartbeat_interval_ms: 30000 },
    });
    expect(parseFrame('{"op":"heartbeat_ack","d":null}')).toEqual({ op: 'heartbeat_ack' });
    expect(parseFrame('{"op":"event","t":"user.updated","d":{"id":"1"},"s":4}')).toEqual({
      op: 'event',
      t: 'user.updated',
      d: { id: '1' },
      s: 4,
    });
    expect(parseFrame('{"op":"resumed","d":{"replayed":2}}')).toEqual({ op: 'resumed', d: { replayed: 2 } });
    // Presence changes carry no sequence number; a resume brings the presences as they are now.
    expect(parseFrame('{"op":"event","t":"presence.updated","d":{"user_id":"2","status":"idle"}}')).toEqual({
      op: 'event',
      t: 'presence.updated',
      d: { user_id: '2', status: 'idle' },
      s: null,
    });
    expect(
      parseFrame(
        JSON.stringify({
          op: 'resumed',
          d: { replayed: 0, presences: [{ user_id: '2', status: 'dnd', custom_status: null }, { user_id: 3 }] },
        }),
      ),
    ).toEqual({ op: 'resumed', d: { replayed: 0, presences: [{ user_id: '2', status: 'dnd', custom_status: null }] } });
    expect(parseFrame('{"op":"invalid_session","d":{"resumable":false}}')).toEqual({
      op: 'invalid_session',
      d: { resumable: false },
    });
    expect(parseFrame('{"op":"error","d":{"code":"rate_limited","message":"slow"}}')).toEqual({
      op: 'error',
      d: { code: 'rate_limited', message: 'slow' },
    });
  });

  it('parses ready and keeps only well-formed presences', () => {
    const frame = parseFrame(
      JSON.stringify({
        op: 'ready',
        d: {
          session_id: 'abc',
          user: { id: '1', username: 'ana' },
          presences: [
            { user_id: '1', status: 'dnd', custom_status: { text: 'Focus time' } },
            { user_id: '2', status: 'weird', custom_status: null },
            'nope',
          ],
          resume_window_ms: 120000,
        },
      }),
    );
    expect(frame).toEqual({
      op: 'ready',
      d: {
        session_id: 'abc',
        user: { id: '1', username: 'ana' },
        presences: [{ user_id: '1', status: 'dnd', custom_status: { text: 'Focus time' } }],
        resume_window_ms: 120000,
      },
    });
  });

  it('parses ready.servers and drops malformed servers and channels', () => {
    const general = {
      id: '11',
      server_id: '10',
      kind: 'text',
      name: 'general',
      position: 0,
      parent_id: null,
      topic: null,
      slowmode_secs: 0,
      user_limit: null,
      bitrate: null,
    };
    const frame = parseFrame(
      JSON.stringify({
        op: 'ready',
        d: {
          session_id: 'abc',
          user: { id: '1', username: 'ana' },
          servers: [
            {
              id: '10',
              name: 'Clube do Livro',
              description: null,
              icon: null,
              owner_id: '1',
              created_at: '2026-01-01T00:00:00Z',
              channels: [general, { id: 12 }],
              roles: [],
              me: { permissions: '1100014153727', roles: [] },
            },
            { id: '20', name: 'no channels or me' },
          ],
          presences: [],
        },
      }),
    );
    expect(frame?.op).toBe('ready');
    const servers = frame?.op === 'ready' ? frame.d.servers : undefined;
    expect(servers?.map((s) => s.id)).toEqual(['10']);
    // A server that sends neither `overwrites` nor `last_message_id`: defaults are filled in.
    expect(servers?.[0]?.channels).toEqual([{ ...general, overwrites: [], last_message_id: null }]);
    expect(servers?.[0]?.me.permissions).toBe('1100014153727');
  });

  it('clamps a silly heartbeat interval', () => {
    expect(parseFrame('{"op":"hello","d":{"heartbeat_interval_ms":0}}')).toEqual({
      op: 'hello',
      d: { heartbeat_interval_ms: 1000 },
    });
    expect(parseFrame('{"op":"hello","d":null}')).toEqual({ op: 'hello', d: { heartbeat_interval_ms: 30000 } });
  });

  it('rejects garbage', () => {
    for (const raw of ['', 'nope', '[]', '{"d":1}', '{"op":"unknown"}', '{"op":"event","d":{}}', '{"op":"ready","d":{}}']) {
      expect(parseFrame(raw), raw).toBeNull();
    }
    expect(parseFrame(new ArrayBuffer(4))).toBeNull();
  });

  it('recognises presences', () => {
    expect(isPresence({ user_id: '1', status: 'offline', custom_status: null })).toBe(true);
    expect(isPresence({ user_id: '1', status: 'online' })).toBe(true);
    expect(isPresence({ user_id: 1, status: 'online', custom_status: null })).toBe(false);
    expect(isPresence({ user_id: '1', status: 'online', custom_status: { emoji: 'x' } })).toBe(false);
  });

  it('encodes client frames as JSON', () => {
    expect(JSON.parse(encodeFrame({ op: 'heartbeat', d: { seq: 3 } }))).toEqual({ op: 'heartbeat', d: { seq: 3 } });
    expect(JSON.parse(encodeFrame({ op: 'identify', d: { token: 't' } }))).toEqual({ op: 'identify', d: { token: 't' } });
  });

  it('parses the answers to message_create', () => {
    const ack = parseFrame(JSON.stringify({ op: 'message_ack', d: { nonce: 'n', created: false, message: { id: '1' } } }));
    expect(ack).toEqual({ op: 'message_ack', d: { nonce: 'n', created: false, message: { id: '1' } } });
    expect(parseFrame(JSON.stringify({ op: 'message_ack', d: { nonce: 'n' } }))).toBeNull();
    const refused = parseFrame(
      JSON.stringify({
        op: 'error',
        d: { nonce: 'n', code: 'validation_failed', message: 'm', fields: { content: { code: 'too_long', message: 'x' }, junk: 3 }, retry_after: 2 },
      }),
    );
    expect(refused).toEqual({
      op: 'error',
      d: { nonce: 'n', code: 'validation_failed', message: 'm', fields: { content: { code: 'too_long', message: 'x' } }, retry_after: 2 },
    });
  });
});
