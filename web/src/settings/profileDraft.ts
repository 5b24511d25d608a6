// The profile form's values against the profile they started from: only what the user
// changed is sent, and a change made meanwhile in another session shows in the fields the
// user has not touched (sending every field undid the other session's edits). Pure.

/** The editable profile fields, as the form holds them. */
export interface ProfileValues {
  display_name: string;
  bio: string;
  pronouns: string;
  accent_color: number | null;
}

type Key = keyof ProfileValues;
const KEYS: readonly Key[] = ['display_name', 'bio', 'pronouns', 'accent_color'];

const trimmedOrNull = (value: string): string | null => (value.trim() ? value.trim() : null);

/** The form's values of a profile. */
export function profileValues(user: {
  display_name: string | null;
  bio: string | null;
  pronouns: string | null;
  accent_color: number | null;
}): ProfileValues {
  return {
    display_name: user.display_name ?? '',
    bio: user.bio ?? '',
    pronouns: user.pronouns ?? '',
    accent_color: user.accent_color,
  };
}

/** A profile PATCH: the fields sent, blank text as null. */
export interface ProfilePatch {
  display_name?: string | null;
  bio?: string | null;
  pronouns?: string | null;
  accent_color?: number | null;
}

/** The fields of `draft` that differ from `base`, as the PATCH wants them. */
export function profilePatch(base: ProfileValues, draft: ProfileValues): ProfilePatch {
  const patch: ProfilePatch = {};
  for (const key of ['display_name', 'bio', 'pronouns'] as const) {
    if (draft[key] !== base[key]) patch[key] = trimmedOrNull(draft[key]);
  }
  if (draft.accent_color !== base.accent_color) patch.accent_color = draft.accent_color;
  return patch;
}

/** `draft` after the profile moved from `base` to `next` elsewhere: untouched fields follow. */
export function rebaseDraft(base: ProfileValues, draft: ProfileValues, next: ProfileValues): ProfileValues {
  const out = { ...draft };
  for (const key of KEYS) {
    if (draft[key] === base[key]) (out as Record<Key, unknown>)[key] = next[key];
  }
  return out;
}
