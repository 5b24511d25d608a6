interface FormAlertProps {
  message: string | null;
  kind?: 'error' | 'success' | 'info';
  testId?: string;
}

/** A message above (or below) a form: errors are announced assertively. */
export function FormAlert({ message, kind = 'error', testId = 'form-error' }: FormAlertProps) {
  if (!message) return null;
  return (
    <div
      className={`alert alert-${kind}`}
      role={kind === 'error' ? 'alert' : 'status'}
      data-testid={testId}
    >
      {message}
    </div>
  );
}
