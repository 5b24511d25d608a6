import { useId } from 'react';

interface FormFieldProps {
  /** The API field name; also the input's `name`. */
  name: string;
  label: string;
  value: string;
  onChange(value: string): void;
  type?: 'text' | 'email' | 'password' | 'number';
  autoComplete?: string;
  error?: string | undefined;
  hint?: string;
  required?: boolean;
  maxLength?: number;
  multiline?: boolean;
  autoFocus?: boolean;
  disabled?: boolean;
  /** number inputs */
  min?: number;
  max?: number;
}

/** A labelled input with its hint and its (server-side) error message below. */
export function FormField({
  name,
  label,
  value,
  onChange,
  type = 'text',
  autoComplete,
  error,
  hint,
  required = false,
  maxLength,
  multiline = false,
  autoFocus = false,
  disabled = false,
  min,
  max,
}: FormFieldProps) {
  const id = useId();
  const inputId = `${id}-input`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  // The error replaces the hint while there is one.
  const showHint = Boolean(hint) && !error;
  const describedBy = error ? errorId : showHint ? hintId : '';
  const common = {
    id: inputId,
    name,
    value,
    required,
    maxLength,
    autoFocus,
    disabled,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy || undefined,
    className: error ? 'input input-invalid' : 'input',
  };

  return (
    <div className="field">
      <label className="field-label" htmlFor={inputId}>
        {label}
        {required && (
          <span className="field-required" aria-hidden="true">
            {' *'}
          </span>
        )}
      </label>
      {multiline ? (
        <textarea {...common} rows={4} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input
          {...common}
          type={type}
          autoComplete={autoComplete}
          spellCheck={type === 'text' ? undefined : false}
          min={min}
          max={max}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
      {error && (
        <p className="field-error" id={errorId} data-testid={`field-error-${name}`}>
          {error}
        </p>
      )}
      {showHint && (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}
