import { describe, expect, it } from 'vitest';
import { createI18n, resolveLanguage, systemLanguage } from './i18n.js';
import { errorCodes } from '../../shared/errors.js';
import { en } from '../../shared/locales/en.js';
import { ptBR } from '../../shared/locales/pt-BR.js';

function keys(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null ? keys(value as object, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

function text(tree: object, key: string): string {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], tree) as string;
}

/** `{{count, number}}` and the like, sorted: what a translation must fill in, with the same format. */
function placeholders(value: string): string[] {
  return [...value.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((match) => match[1]!.replace(/\s+/g, ' ')).sort();
}

describe('i18n', () => {
  it('pt-BR has exactly the keys of en, none empty', () => {
    expect(keys(ptBR).sort()).toEqual(keys(en).sort());
    for (const key of keys(ptBR)) expect(text(ptBR, key), key).not.toBe('');
  });

  it('pt-BR fills in the same values as en, with the same formats', () => {
    const differing = keys(en).filter((key) => placeholders(text(en, key)).join() !== placeholders(text(ptBR, key)).join());
    expect(differing).toEqual([]);
    expect(placeholders(text(en, 'meta.tokens_other'))).toEqual(['count, number']);
  });

  it('has a heading for every engine error code, in both languages', () => {
    for (const code of Object.keys(errorCodes)) expect(keys(en)).toContain(`error.title.${code}`);
  });

  it('every key the views use exists (plural keys by their base)', () => {
    const source = Object.values(import.meta.glob<string>('./*.tsx', { query: '?raw', import: 'default', eager: true })).join('\n');
    const known = new Set(keys(en).map((key) => key.replace(/_(one|other)$/, '')));
    const used = [...source.matchAll(/\bt\(\s*'([a-zA-Z0-9.-]+)'/g)].map((match) => match[1]!);
    expect(used.length).toBeGreaterThan(100);
    expect(used.filter((key) => !known.has(key))).toEqual([]);
  });

  it('takes the language from the system: any Portuguese is pt-BR, else English; a setting wins', () => {
    expect(systemLanguage(['pt-PT', 'en'])).toBe('pt-BR');
    expect(systemLanguage(['de-DE', 'en-US'])).toBe('en');
    expect(systemLanguage(['fr'])).toBe('en');
    expect(resolveLanguage('system', ['pt-BR'])).toBe('pt-BR');
    expect(resolveLanguage('en', ['pt-BR'])).toBe('en');
  });

  it('translates with plurals and values', () => {
    const i18n = createI18n('pt-BR');
    expect(i18n.t('conversations.questions', { count: 1 })).toBe('1 pergunta');
    expect(i18n.t('conversations.questions', { count: 3 })).toBe('3 perguntas');
    expect(i18n.t('tabs.settings')).toBe('Configurações');
    expect(i18n.t('conversations.questions', { count: 1234 })).toBe('1.234 perguntas');
    createI18n('en');
  });
});
