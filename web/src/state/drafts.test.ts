import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStorage } from '../testing/memoryStorage';
import { clearDrafts, draftOf, saveDraft } from './drafts';

let store: MemoryStorage;

beforeEach(() => {
  vi.useFakeTimers();
  store = new MemoryStorage();
  vi.stubGlobal('localStorage', store);
  clearDrafts();
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('drafts', () => {
  it('keeps unsent text per channel, on the device once typing pauses', () => {
    saveDraft('u1', 'c1', 'olá, tudo');
    saveDraft('u1', 'c2', 'outro canal');
    expect(draftOf('u1', 'c1')).toBe('olá, tudo');
    expect(store.data.size).toBe(0);
    vi.advanceTimersByTime(400);
    expect(JSON.parse(store.data.get('papo.drafts') ?? '')).toEqual({ userId: 'u1', drafts: { c1: 'olá, tudo', c2: 'outro canal' } });
    // Blank forgets it.
    saveDraft('u1', 'c2', '  ');
    vi.advanceTimersByTime(400);
    expect(JSON.parse(store.data.get('papo.drafts') ?? '').drafts).toEqual({ c1: 'olá, tudo' });
  });

  it('reads back the same user’s drafts after a reload, never another user’s, and forgets them on logout', () => {
    store.setItem('papo.drafts', JSON.stringify({ userId: 'u1', drafts: { c1: 'rascunho' } }));
    expect(draftOf('u2', 'c1')).toBe('');
    expect(draftOf('u1', 'c1')).toBe('rascunho');
    clearDrafts();
    expect(store.data.has('papo.drafts')).toBe(false);
    expect(draftOf('u1', 'c1')).toBe('');
  });

  it('survives an unreadable entry', () => {
    store.setItem('papo.drafts', '{not json');
    expect(draftOf('u1', 'c1')).toBe('');
  });
});
