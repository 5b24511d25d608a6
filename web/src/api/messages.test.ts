import { describe, expect, it, vi } from 'vitest';
import type { ApiClient, RequestOptions } from './client';
import { createMessagesApi, messageQueryString } from './messages';

interface Call {
  method: string;
  path: string;
  options: RequestOptions | undefined;
}

function setup(answer: unknown = undefined) {
  const calls: Call[] = [];
  const request = vi.fn(async (method: string, path: string, options?: RequestOptions) => {
    calls.push({ method, path, options });
    return answer;
  });
  const client = { request } as unknown as Pick<ApiClient, 'request'>;
  return { api: createMessagesApi(client), calls };
}

const wire = {
  id: '10',
  channel_id: '5',
  server_id: '1',
  author: { id: '2', username: 'ana' },
  content: 'hi **there**',
  created_at: '2026-01-01T00:00:00Z',
};

describe('messages API', () => {
  it('builds history queries with one anchor and a clamped limit', () => {
    expect(messageQueryString()).toBe('');
    expect(messageQueryString({ before: '9', limit: 50 })).toBe('?before=9&limit=50');
    expect(messageQueryString({ after: '9', around: '3' })).toBe('?after=9');
    expect(messageQueryString({ around: '3', limit: 500 })).toBe('?around=3&limit=100');
    expect(messageQueryString({ limit: 0 })).toBe('?limit=1');
  });

  it('lists, normalizing messages and dropping malformed ones', async () => {
    const { api, calls } = setup([wire, { id: 11 }]);
    const messages = await api.list('5', { before: '20', limit: 2 });
    expect(calls[0]).toMatchObject({ method: 'GET', path: '/channels/5/messages?before=20&limit=2' });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      id: '10',
      nonce: null,
      edited_at: null,
      reply_to: null,
      referenced_message: null,
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
    });
    expect(messages[0]?.reactions).toBeUndefined();
  });

  it('sends with a nonce and a reply', async () => {
    const { api, calls } = setup({ ...wire, nonce: 'abc', reactions: [{ emoji: '👍', count: 1, me: true }] });
    const message = await api.send('5', { content: 'hi', nonce: 'abc', reply_to: '7' });
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/channels/5/messages' });
    expect(calls[0]?.options?.body).toEqual({ content: 'hi', nonce: 'abc', reply_to: '7' });
    expect(message.nonce).toBe('abc');
    expect(message.reactions).toEqual([{ emoji: '👍', count: 1, me: true }]);
  });

  it('rejects a malformed single message', async () => {
    const { api } = setup({ id: '1' });
    await expect(api.edit('5', '1', 'x')).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('uses the documented routes', async () => {
    const { api, calls } = setup(wire);
    await api.edit('5', '10', 'new');
    await api.remove('5', '10');
    await api.bulkDelete('5', ['10', '11']);
    await api.pins('5');
    await api.pin('5', '10');
    await api.unpin('5', '10');
    await api.ack('5', '10');
    await api.readStates();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'PATCH /channels/5/messages/10',
      'DELETE /channels/5/messages/10',
      'POST /channels/5/messages/bulk-delete',
      'GET /channels/5/pins',
      'PUT /channels/5/pins/10',
      'DELETE /channels/5/pins/10',
      'POST /channels/5/ack',
      'GET /users/@me/read-states',
    ]);
    expect(calls[0]?.options?.body).toEqual({ content: 'new' });
    expect(calls[2]?.options?.body).toEqual({ messages: ['10', '11'] });
    expect(calls[6]?.options?.body).toEqual({ message_id: '10' });
  });

  it('percent-encodes emoji in reaction routes', async () => {
    const { api, calls } = setup();
    await api.addReaction('5', '10', '👍');
    await api.removeReaction('5', '10', '❤️');
    expect(calls[0]).toMatchObject({ method: 'PUT', path: '/channels/5/messages/10/reactions/%F0%9F%91%8D' });
    expect(calls[1]).toMatchObject({ method: 'DELETE', path: '/channels/5/messages/10/reactions/%E2%9D%A4%EF%B8%8F' });
  });

  it('filters read states', async () => {
    const { api } = setup([{ channel_id: '5', last_read_id: '9', mention_count: 2 }, { channel_id: 5 }]);
    expect(await api.readStates()).toEqual([{ channel_id: '5', last_read_id: '9', mention_count: 2 }]);
  });
});
