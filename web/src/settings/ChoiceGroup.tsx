import type { ReactNode } from 'react';

export interface Choice<T extends string> {
  value: T;
  label: ReactNode;
  lang?: string;
  testId?: string;
}

interface ChoiceGroupProps<T extends string> {
  name: string;
  legend: string;
  value: T;
  choices: readonly Choice<T>[];
  onChange(value: T): void;
  disabled?: boolean;
}

/** A radio group styled as a list of selectable rows. */
export function ChoiceGroup<T extends string>({
  name,
  legend,
  value,
  choices,
  onChange,
  disabled = false,
}: ChoiceGroupProps<T>) {
  return (
    <fieldset className="choice-group" disabled={disabled}>
      <legend className="field-label">{legend}</legend>
      {choices.map((choice) => (
        <label
          key={choice.value}
          className={choice.value === value ? 'choice choice-selected' : 'choice'}
          data-testid={choice.testId}
        >
          <input
            type="radio"
            name={name}
            value={choice.value}
            checked={choice.value === value}
            onChange={() => onChange(choice.value)}
          />
          <span lang={choice.lang}>{choice.label}</span>
        </label>
      ))}
    </fieldset>
  );
}
