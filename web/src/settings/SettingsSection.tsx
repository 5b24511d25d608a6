import { useEffect, useId, useRef, type ReactNode } from 'react';
import { takeHeadingFocus } from '../components/usePageFocus';

interface SettingsSectionProps {
  title: string;
  description?: string;
  testId: string;
  children: ReactNode;
}

export function SettingsSection({ title, description, testId, children }: SettingsSectionProps) {
  const id = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (takeHeadingFocus()) heading.current?.focus();
  }, []);
  return (
    <section className="settings-section" aria-labelledby={id} data-testid={testId}>
      <h1 ref={heading} className="settings-section-title" id={id} tabIndex={-1}>
        {title}
      </h1>
      {description && <p className="settings-section-description">{description}</p>}
      {children}
    </section>
  );
}
