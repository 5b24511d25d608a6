import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import { en, ptBR } from './locales';
import { browserLanguages, pickLanguage, SUPPORTED_LOCALES } from './language';
import { readCachedLocale } from '../preferences';

export const resources = {
  en: { translation: en },
  'pt-BR': { translation: ptBR },
} as const;

function syncDocument(lng: string): void {
  if (typeof document === 'undefined') return;
  document.documentElement.lang = lng;
  document.title = i18n.t('app.title');
}

/** `value` between first-strong isolate (U+2068) and pop directional isolate (U+2069). */
export function isolate(value: string): string {
  return `\u2068${value}\u2069`;
}

i18n.on('languageChanged', syncDocument);

void i18n.use(initReactI18next).init({
  resources,
  lng: pickLanguage(readCachedLocale(), browserLanguages()),
  fallbackLng: 'en',
  supportedLngs: [...SUPPORTED_LOCALES],
  load: 'currentOnly',
  // React escapes HTML itself. Each value put into a sentence (a name, a count) is isolated
  // between U+2068 and U+2069, so a right-to-left name, or one that ends in digits, is
  // ordered as one piece and cannot reorder the words around it.
  interpolation: { escapeValue: true, escape: isolate },
  returnNull: false,
  react: { useSuspense: false },
});

export default i18n;
