// Unsent text of the message box, per channel, as Discord keeps it: switching channels (or
// reloading) brings it back. Kept on this device for one user; logging out forgets it.

const KEY = 'papo.drafts';
/** Written this long after the last keystroke (not on every one). */
const PERSIST_AFTER_MS = 400;
/** Longest draft kept (a message is at most 4000 characters; more was being cut anyway). */
const MAX_DRAFT = 8_000;

interface Stored {
  userId: string;
  drafts: Record<string, string>;
}

let owner: string | null = null;
let drafts = new Map<string, string>();
let timer: ReturnType<typeof setTimeout> | null = null;

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function isStored(value: unknown): value is Stored {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.userId === 'string' && typeof v.drafts === 'object' && v.drafts !== null;
}

/** The drafts of `userId` (read from this device the first time; another user's are not theirs). */
function of(userId: string): Map<string, string> {
  if (owner === userId) return drafts;
  owner = userId;
  drafts = new Map();
  try {
    const parsed: unknown = JSON.parse(storage()?.getItem(KEY) ?? 'null');
    if (isStored(parsed) && parsed.userId === userId) {
      for (const [channel, text] of Object.entries(parsed.drafts)) {
        if (typeof text === 'string' && text) drafts.set(channel, text);
      }
    }
  } catch {
    /* unreadable: start empty */
  }
  return drafts;
}

function persist(): void {
  timer = null;
  if (owner === null) return;
  try {
    const s = storage();
    if (!s) return;
    if (drafts.size === 0) s.removeItem(KEY);
    else s.setItem(KEY, JSON.stringify({ userId: owner, drafts: Object.fromEntries(drafts) } satisfies Stored));
  } catch {
    /* full or unavailable: the drafts stay in memory */
  }
}

/** `userId`'s unsent text in `channelId` ('' if none). */
export function draftOf(userId: string, channelId: string): string {
  return of(userId).get(channelId) ?? '';
}

/** Keeps `text` as `userId`'s draft in `channelId` ('' or blank forgets it). */
export function saveDraft(userId: string, channelId: string, text: string): void {
  const map = of(userId);
  const kept = text.trim() ? text.slice(0, MAX_DRAFT) : '';
  if ((map.get(channelId) ?? '') === kept) return;
  if (kept) map.set(channelId, kept);
  else map.delete(channelId);
  if (timer === null) timer = setTimeout(persist, PERSIST_AFTER_MS);
}

/** Forgets every draft, here and on the device (logging out). */
export function clearDrafts(): void {
  if (timer !== null) clearTimeout(timer);
  timer = null;
  owner = null;
  drafts = new Map();
  try {
    storage()?.removeItem(KEY);
  } catch {
    /* ignore */
  }
}
