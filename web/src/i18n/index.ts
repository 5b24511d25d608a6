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

i18n.on('languageChanged', syncDocument);

void i18n.use(initReactI18next).init({
  resources,
  lng: pickLanguage(readCachedLocale(), browserLanguages()),
  fallbackLng: 'en',
  supportedLngs: [...SUPPORTED_LOCALES],
  load: 'currentOnly',
  interpolation: { escapeValue: false },
  returnNull: false,
  react: { useSuspense: false },
});

export default i18n;
