import { useId, type ReactNode } from 'react';

interface SettingsSectionProps {
  title: string;
  description?: string;
  testId: string;
  children: ReactNode;
}

export function SettingsSection({ title, description, testId, children }: SettingsSectionProps) {
  const id = useId();
  return (
    <section className="settings-section" aria-labelledby={id} data-testid={testId}>
      <h1 className="settings-section-title" id={id}>
        {title}
      </h1>
      {description && <p className="settings-section-description">{description}</p>}
      {children}
    </section>
  );
}
