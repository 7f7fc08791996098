/**
 * Every string of the UI goes through i18next (react-i18next): English and Brazilian Portuguese,
 * the language from the system (the browser's or Electron's `navigator.languages`) unless the
 * settings name one. Numbers and dates use the same language through Intl (locale-format.ts).
 */
import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { UiLanguage } from '../../shared/contract.js';
import { en } from './locales/en.js';
import { ptBR } from './locales/pt-BR.js';

export const supportedLanguages = ['en', 'pt-BR'] as const;
export type SupportedLanguage = (typeof supportedLanguages)[number];

/** The system's language as one npllm speaks: any Portuguese is pt-BR, anything else English. */
export function systemLanguage(preferred: readonly string[]): SupportedLanguage {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'pt') return 'pt-BR';
    if (base === 'en') return 'en';
  }
  return 'en';
}

export function resolveLanguage(setting: UiLanguage | null | undefined, preferred: readonly string[]): SupportedLanguage {
  return setting && setting !== 'system' ? setting : systemLanguage(preferred);
}

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
