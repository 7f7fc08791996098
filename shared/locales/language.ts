/** Which of npllm's languages a person gets: the one the settings name, or the system's. */
import type { UiLanguage } from '../contract.js';

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
