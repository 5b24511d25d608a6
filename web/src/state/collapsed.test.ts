import { describe, expect, it } from 'vitest';
import { collapsedKey, loadCollapsed, saveCollapsed, toggled } from './collapsed';
import { MemoryStorage } from '../testing/memoryStorage';

describe('collapsed channel groups', () => {
  it('round-trips per server', () => {
    const storage = new MemoryStorage();
    saveCollapsed(storage, 's1', toggled(new Set(), '42'));
    expect([...loadCollapsed(storage, 's1')]).toEqual(['42']);
    expect(loadCollapsed(storage, 's2').size).toBe(0);
    saveCollapsed(storage, 's1', toggled(loadCollapsed(storage, 's1'), '42'));
    expect(storage.data.has(collapsedKey('s1'))).toBe(false);
  });

  it('survives garbage and missing storage', () => {
    const storage = new MemoryStorage();
    storage.setItem(collapsedKey('s1'), '{nope');
    expect(loadCollapsed(storage, 's1').size).toBe(0);
    storage.setItem(collapsedKey('s1'), '["a", 3, null]');
    expect([...loadCollapsed(storage, 's1')]).toEqual(['a']);
    expect(loadCollapsed(null, 's1').size).toBe(0);
    expect(() => saveCollapsed(null, 's1', new Set(['a']))).not.toThrow();
  });
});
