import { useEffect, useId, useRef, type ReactNode } from 'react';

interface ModalProps {
  title: string;
  description?: ReactNode;
  /** Called when the dialog closes (Escape, a cancel button): the parent unmounts it. */
  onClose(): void;
  children: ReactNode;
  testId?: string;
  className?: string;
}

/**
 * A native modal <dialog>: opened on mount, removed by the parent on close.
 * Focus goes back to where it was when the dialog opened.
 */
export function Modal({ title, description, onClose, children, testId, className }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (!previous || !previous.isConnected) return;
      previous.focus();
      // It cannot take the focus any more (a toolbar shown only on hover, now hidden): the
      // nearest focusable element around it does (the message it belongs to).
      if (document.activeElement !== previous) previous.parentElement?.closest<HTMLElement>('[tabindex]')?.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={className ? `dialog ${className}` : 'dialog'}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      data-testid={testId}
      onClose={() => onCloseRef.current()}
    >
      <div className="dialog-body form">
        <header className="dialog-header">
          <h2 id={titleId}>{title}</h2>
          {description && <p id={descriptionId}>{description}</p>}
        </header>
        {children}
      </div>
    </dialog>
  );
}
