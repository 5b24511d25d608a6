// Where the user left each channel's history when scrolled up in it, so that coming back to
// the channel shows the same place, as Discord does. For this page and this login only.

/** A message row (its `data-key`) and its distance from the top of the list, in px. */
export interface Place {
  key: string;
  top: number;
}

const leftAt = new Map<string, Place>();

/** Notes where the user left `channelId`; `null`: at the bottom (it opens at the newest). */
export function leavePlace(channelId: string, place: Place | null): void {
  if (place === null) leftAt.delete(channelId);
  else leftAt.set(channelId, place);
}

/** Where the user left `channelId`, if scrolled up. */
export function placeOf(channelId: string): Place | null {
  return leftAt.get(channelId) ?? null;
}

/** Forgets every place (logout, another user). */
export function forgetPlaces(): void {
  leftAt.clear();
}
