import { describe, expect, it } from 'vitest';
import { NpllmError, type SerializedError } from '../../shared/errors.js';
import { createI18n } from './i18n.js';
import { errorText, uiError } from './ui-error.js';

const en = createI18n('en');
const ptBR = createI18n('pt-BR');

describe('errorText', () => {
  const engine = new NpllmError('QUERY_TOO_LONG', 'The question has 40000 characters; the limit is 32000.', { fix: 'Ask about less code.' }).toJSON();

  it("keeps the engine's English words under a heading in the reader's language", () => {
    expect(errorText(engine, en.t)).toEqual({ title: 'The question is too long', message: engine.message, fix: 'Ask about less code.' });
    expect(errorText(engine, ptBR.t)).toEqual({ title: 'A pergunta é longa demais', message: engine.message, fix: 'Ask about less code.' });
  });

  it('gives a code this app does not know a generic heading', () => {
    const newer = { ...engine, code: 'SOMETHING_NEW' } as unknown as SerializedError;
    expect(errorText(newer, ptBR.t).title).toBe('Algo deu errado');
  });

  it('translates what the renderer said itself, without a heading', () => {
    expect(errorText(uiError('drop.several', 'drop.severalFix').toJSON(), ptBR.t)).toEqual({
      title: null,
      message: 'Vários itens foram soltos.',
      fix: 'Solte uma pasta de projeto por vez.',
    });
    const status = new NpllmError('INTERNAL', 'The server answered 502.', {
      details: { i18n: { message: 'transport.status', fix: 'transport.statusFix', values: { status: '502' } } },
    }).toJSON();
    expect(errorText(status, ptBR.t)).toMatchObject({ title: null, message: 'O servidor respondeu 502.' });
  });
});
