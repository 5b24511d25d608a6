// A Storage (localStorage's getItem / setItem / removeItem) in memory, for the unit tests.

/** What the tests read back: every key and its value. */
export class MemoryStorage {
  readonly data = new Map<string, string>();

  getItem(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.data.set(key, value);
  }

  removeItem(key: string): void {
    this.data.delete(key);
  }
}
