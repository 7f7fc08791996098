/**
 * The few words main shows itself (tray menu and tooltip, dialog and window titles), through the
 * same i18next catalogues as the renderer (shared/locales), in the language of the settings or of
 * the system (Electron's app.getLocale()).
 */
import i18next from 'i18next';
import type { UiLanguage } from '../../shared/contract.js';
import { en } from '../../shared/locales/en.js';
import { resolveLanguage } from '../../shared/locales/language.js';
import { ptBR } from '../../shared/locales/pt-BR.js';

export interface DesktopLabels {
  tooltip: string;
  quickQuestion: string;
  show: string;
  quit: string;
  openFolder: string;
  quickTitle: string;
}

const i18n = i18next.createInstance();
void i18n.init({
  resources: { en: { translation: en }, 'pt-BR': { translation: ptBR } },
  lng: 'en',
  fallbackLng: 'en',
  initAsync: false,
  interpolation: { escapeValue: false },
});

export function desktopLabels(setting: UiLanguage | null, systemLocale: string): DesktopLabels {
  const t = i18n.getFixedT(resolveLanguage(setting, [systemLocale]));
  const keys = ['tooltip', 'quickQuestion', 'show', 'quit', 'openFolder', 'quickTitle'] as const;
  return Object.fromEntries(keys.map((key) => [key, t(`desktop.${key}`)])) as unknown as DesktopLabels;
}
