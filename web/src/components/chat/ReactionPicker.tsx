import { useEffect, useRef, type KeyboardEvent, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';

/** The emoji offered by the picker (one Unicode emoji each, as the server wants). */
export const PICKER_EMOJI = ['👍', '👎', '😂', '❤️', '🎉', '😮', '😢', '😡', '🙏', '👀', '🔥', '✅', '💯', '🚀', '🤔', '👏'];

interface ReactionPickerProps {
  onPick(emoji: string): void;
  onClose(): void;
  /** Emoji we already reacted with (shown pressed). */
  mine: readonly string[];
  /** Open above the toolbar (near the bottom of the list). */
  up?: boolean;
  /** The button that opened it: its own clicks toggle, and it gets the focus back on Escape. */
  trigger: RefObject<HTMLElement | null>;
}

/** A small grid of common emoji; arrows move, Enter picks, Escape closes. */
export function ReactionPicker({ onPick, onClose, mine, up = false, trigger }: ReactionPickerProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const root = ref.current;
    root?.querySelector<HTMLButtonElement>('button')?.focus();
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Node;
      if (root?.contains(target) || trigger.current?.contains(target)) return;
      onClose();
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [onClose, trigger]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const buttons = Array.from(ref.current?.querySelectorAll<HTMLButtonElement>('button') ?? []);
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    // As many columns as the grid shows (fewer on phones).
    const columns = Math.max(1, getComputedStyle(ref.current as Element).gridTemplateColumns.split(' ').length);
    let next: number | null = null;
    switch (event.key) {
      case 'Escape':
        event.preventDefault();
        event.stopPropagation();
        onClose();
        trigger.current?.focus();
        return;
      case 'ArrowRight':
        next = index + 1;
        break;
      case 'ArrowLeft':
        next = index - 1;
        break;
      case 'ArrowDown':
        next = index + columns;
        break;
      case 'ArrowUp':
        next = index - columns;
        break;
      default:
        return;
    }
    event.preventDefault();
    buttons[(next + buttons.length) % buttons.length]?.focus();
  };

  return (
    <div
      ref={ref}
      className={up ? 'reaction-picker reaction-picker-up' : 'reaction-picker'}
      role="group"
      aria-label={t('chat.reactions.pick')}
      onKeyDown={onKeyDown}
      data-testid="reaction-picker"
    >
      {PICKER_EMOJI.map((emoji) => (
        <button
          key={emoji}
          type="button"
          className="reaction-picker-emoji"
          aria-pressed={mine.includes(emoji)}
          aria-label={t('chat.reactions.reactWith', { emoji })}
          onClick={() => onPick(emoji)}
          data-testid="reaction-option"
          data-emoji={emoji}
        >
          {emoji}
        </button>
      ))}
    </div>
  );
}
