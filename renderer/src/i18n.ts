/**
 * Every string of the UI goes through i18next (react-i18next): English and Brazilian Portuguese,
 * the language from the system (the browser's or Electron's `navigator.languages`) unless the
 * settings name one. Numbers and dates use the same language through Intl (locale-format.ts).
 */
import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { SupportedLanguage } from '../../shared/locales/language.js';
import { en } from '../../shared/locales/en.js';
import { ptBR } from '../../shared/locales/pt-BR.js';

export { resolveLanguage, systemLanguage, type SupportedLanguage } from '../../shared/locales/language.js';

export function createI18n(language: SupportedLanguage): i18n {
  const instance = i18next.createInstance();
  void instance.use(initReactI18next).init({
    resources: { en: { translation: en }, 'pt-BR': { translation: ptBR } },
    lng: language,
    fallbackLng: 'en',
    // React escapes what it renders.
    interpolation: { escapeValue: false },
    initAsync: false,
    returnNull: false,
  });
  return instance;
}
