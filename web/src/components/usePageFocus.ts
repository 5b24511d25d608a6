import { useEffect } from 'react';

/** A settings page just opened: its first section to be drawn takes the focus. */
let headingWanted = false;

/**
 * A page shown over the app (user or server settings): the focus goes to its heading when it
 * opens (the first section drawn, which may come after the page), and back to `opener` (a
 * selector of the app's button) when it closes; else both times it was left on the page itself.
 */
export function usePageFocus(opener: string): void {
  useEffect(() => {
    headingWanted = true;
    const heading = document.querySelector<HTMLElement>('.settings-section-title');
    if (heading) {
      headingWanted = false;
      heading.focus();
    }
    return () => {
      headingWanted = false;
      // After the app behind it is drawn again.
      setTimeout(() => document.querySelector<HTMLElement>(opener)?.focus(), 0);
    };
  }, [opener]);
}

/** For a section's heading once drawn: whether it should take the focus (once per page opened). */
export function takeHeadingFocus(): boolean {
  const wanted = headingWanted;
  headingWanted = false;
  return wanted;
}
