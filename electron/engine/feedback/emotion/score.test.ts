import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../base/paths.js';
import { classMetrics, confusionMatrix, loadEmotionSet } from './evaluate.js';
import { scoreEmotion, type EmotionLabel } from './score.js';

const label = (message: string, previous?: string): EmotionLabel => scoreEmotion(message, previous === undefined ? {} : { previous }).label;

describe('scoreEmotion', () => {
  it('returns scores in range, valence = satisfaction − frustration, and the cues that fired', () => {
    const score = scoreEmotion('não funciona');
    expect(score).toMatchObject({ label: 'frustration', language: 'pt', satisfaction: 0 });
    expect(score.frustration).toBeGreaterThan(0.5);
    expect(score.frustration).toBeLessThanOrEqual(1);
    expect(score.valence).toBeCloseTo(score.satisfaction - score.frustration, 3);
    expect(score.cues).toContain('lexicon:nao funciona');
  });

  it('reads plain frustration and satisfaction in both languages', () => {
    expect(label('still wrong')).toBe('frustration');
    expect(label('this is useless')).toBe('frustration');
    expect(label('perfeito, obrigado')).toBe('satisfaction');
    expect(label('perfect, thanks!')).toBe('satisfaction');
    expect(label('ok')).toBe('neutral');
    expect(label('Now make it async.')).toBe('neutral');
  });

  it('handles negation both ways, within a window that stops at a comma', () => {
    expect(label('not bad')).toBe('satisfaction');
    expect(label('nada mal')).toBe('satisfaction');
    expect(label('não está errado')).not.toBe('frustration');
    expect(scoreEmotion('não está errado').cues).toContain('lexicon:nao errado');
    expect(label('not helpful')).toBe('frustration');
    expect(label('this works')).toBe('satisfaction');
    expect(label("this doesn't work")).toBe('frustration');
    expect(label('não ajudou em nada')).toBe('frustration');
    expect(label('Nothing you suggested works.')).toBe('frustration');
    expect(label('nada do que vc sugeriu funciona')).toBe('frustration');
    // The comma ends the negator's reach: a polite "no, thanks" is not a negated "thanks".
    expect(scoreEmotion('no, thanks').satisfaction).toBeGreaterThan(0);
    expect(label('the error is gone now, thanks')).toBe('satisfaction');
  });

  it('takes ALL CAPS as shouting that strengthens the mood, and ignores acronyms', () => {
    const shouted = scoreEmotion('NÃO FUNCIONA');
    expect(shouted.cues).toContain('caps');
    expect(shouted.frustration).toBeGreaterThan(scoreEmotion('não funciona').frustration);
    expect(label('WHY IS THIS STILL BROKEN')).toBe('frustration');
    expect(label('THANK YOU')).toBe('satisfaction');
    const acronyms = scoreEmotion('use the JSON API over HTTP');
    expect(acronyms.label).toBe('neutral');
    expect(acronyms.cues).not.toContain('caps');
    expect(acronyms.cues).not.toContain('caps-word');
    expect(scoreEmotion('I said WITHOUT using jQuery').cues).toContain('caps-word');
  });

  it('reads repeated punctuation: ??? and ?! complain, !!! amplifies whichever side leads', () => {
    expect(label('???')).toBe('frustration');
    expect(label('?')).toBe('frustration');
    expect(label('como assim??')).toBe('frustration');
    expect(label('seriously?!')).toBe('frustration');
    expect(scoreEmotion('de novo?!').cues).toContain('interrobang');
    expect(label('how do I read a file?')).toBe('neutral');
    expect(scoreEmotion('it works!!!').satisfaction).toBeGreaterThan(scoreEmotion('it works').satisfaction);
    expect(scoreEmotion("it doesn't work!!!").frustration).toBeGreaterThan(scoreEmotion("it doesn't work").frustration);
  });

  it('detects the previous question asked again, and not a follow-up on a new subject', () => {
    const previous = 'how do I sort a dict by value in python';
    const repeated = scoreEmotion('how do I sort a dictionary by its values in Python?', { previous });
    expect(repeated.label).toBe('frustration');
    expect(repeated.cues).toContain('repeated-question');
    expect(label('how do I sort a dictionary by its values in Python?')).toBe('neutral');
    expect(label('como ler um csv no pandas pulando a primeira linha', 'como faço pra ler um arquivo csv com pandas pulando a primeira linha?')).toBe(
      'frustration',
    );
    const followUp = scoreEmotion('how do I reverse a string in python', { previous: 'how do I reverse a list in python' });
    expect(followUp.label).toBe('neutral');
    expect(followUp.cues).not.toContain('repeated-question');
  });

  it('keeps code out of the lexicon but notices error output', () => {
    const snippet = 'Can you add type hints?\n```python\ndef add(a, b):\n    return a + b\n```';
    expect(scoreEmotion(snippet)).toMatchObject({ label: 'neutral', frustration: 0 });
    expect(scoreEmotion(snippet).cues).toContain('code');
    const traceback = '```\nTraceback (most recent call last):\n  File "app.py", line 3, in <module>\nKeyError: \'x\'\n```';
    const still = scoreEmotion(`still getting this:\n${traceback}`);
    expect(still.label).toBe('frustration');
    expect(still.cues).toEqual(expect.arrayContaining(['error-output', 'persistence+failure']));
    expect(label(traceback)).toBe('frustration');
    expect(label(`how do I fix this?\n${traceback}`)).toBe('neutral');
    // Harsh words inside a fence are code, not mood.
    expect(label('add logging to this:\n```\nif err: raise SystemError("useless garbage")\n```')).toBe('neutral');
    // An unfenced stack trace is code too.
    expect(
      scoreEmotion("Error: Cannot find module 'express'\n    at Function.Module._resolveFilename (node:internal/modules/cjs/loader:1039:15)\nstill happening")
        .cues,
    ).toContain('error-output');
  });

  it('does not count technical words inside a how-to question or request as frustration', () => {
    expect(label('How do I kill a process listening on port 3000?')).toBe('neutral');
    expect(label('What does "fatal: not a git repository" mean?')).toBe('neutral');
    expect(label('How can I handle the error when the file does not exist?')).toBe('neutral');
    expect(label('como tratar o erro quando o arquivo não existe?')).toBe('neutral');
    expect(label('Give me an example with a broken symlink.')).toBe('neutral');
    expect(label("What's the worst case complexity of quicksort?")).toBe('neutral');
    expect(label('Why would the garbage collector not free this?')).toBe('neutral');
    // The same words as a statement about the answer are frustration.
    expect(label('essa função não existe')).toBe('frustration');
    expect(label('The method you suggested does not exist.')).toBe('frustration');
    expect(label('why am I still getting this error?')).toBe('frustration');
  });

  it('turns praise into frustration when it is ironic', () => {
    const ironic = scoreEmotion('great, another error');
    expect(ironic.label).toBe('frustration');
    expect(ironic.cues).toContain('sarcasm');
    expect(label('nossa, ajudou muito 🙄')).toBe('frustration');
    expect(label('nossa, ajudou muito')).toBe('satisfaction');
    expect(label('Perfeito, agora nada funciona.')).toBe('frustration');
    expect(label('oh sure, just rewrite the whole app, very helpful')).toBe('frustration');
    // A "but" between praise and complaint is a contrast, not irony; what follows it leads.
    const contrast = scoreEmotion("thanks, but it still doesn't work");
    expect(contrast.label).toBe('frustration');
    expect(contrast.cues).not.toContain('sarcasm');
  });

  it('reads emojis, including sequences with skin tones and gender', () => {
    expect(label('👍')).toBe('satisfaction');
    expect(label('🤦')).toBe('frustration');
    expect(label('🤦🏽‍♂️')).toBe('frustration');
    expect(label('works now 🎉')).toBe('satisfaction');
  });

  it('understands informal Brazilian Portuguese', () => {
    expect(label('vc n entendeu o que eu pedi')).toBe('frustration');
    expect(label('pq n funciona??')).toBe('frustration');
    expect(label('obg')).toBe('satisfaction');
    expect(label('vlw!')).toBe('satisfaction');
    expect(label('kkkk valeu')).toBe('satisfaction');
    expect(label('tá')).toBe('neutral');
    expect(label('perfeitooo')).toBe('satisfaction');
  });

  it('scores a message the same with or without accents', () => {
    const pairs = [
      ['não está funcionando', 'nao esta funcionando'],
      ['ótimo, é exatamente isso', 'otimo, e exatamente isso'],
      ['péssimo', 'pessimo'],
    ] as const;
    for (const [accented, plain] of pairs) {
      const a = scoreEmotion(accented);
      const b = scoreEmotion(plain);
      expect(b.label).toBe(a.label);
      expect(b.frustration).toBe(a.frustration);
      expect(b.satisfaction).toBe(a.satisfaction);
    }
  });

  it('guesses the language, falling back on the previous question', () => {
    expect(scoreEmotion('this does not work').language).toBe('en');
    expect(scoreEmotion('isso não funciona').language).toBe('pt');
    expect(scoreEmotion('ok').language).toBe('en');
    expect(scoreEmotion('ok', { previous: 'como faço pra ler um csv?' }).language).toBe('pt');
  });

  it('handles an empty message', () => {
    for (const message of ['', '   \n\t ']) {
      expect(scoreEmotion(message)).toEqual({ label: 'neutral', frustration: 0, satisfaction: 0, valence: 0, language: 'en', cues: [] });
    }
  });

  it('reads only the opening and the end of a 100 KB message, tracking a fence opened in between', () => {
    const filler = 'lorem ipsum dolor sit amet, consectetur adipiscing elit\n'.repeat(1800);
    expect(filler.length).toBeGreaterThan(100_000);
    expect(label(`${filler}still broken, nothing works`)).toBe('frustration');
    expect(label(`thanks a lot!\n${filler}`)).toBe('satisfaction');
    // Nothing between the first 2,000 and the last 500 characters is read.
    expect(label(`${'x '.repeat(1500)}\nuseless garbage\n${filler}`)).toBe('neutral');
    // The tail starts inside a fence opened in the skipped middle: its harsh words are code.
    const code = 'log.error("useless garbage, terrible failure")\n'.repeat(2500);
    expect(label(`how do I fix this?\n\`\`\`\n${code}\`\`\`\n`)).toBe('neutral');
  });
});

describe('the development set (bench/emotion-dev.jsonl)', () => {
  const examples = loadEmotionSet(join(packageRoot, 'bench', 'emotion-dev.jsonl'));

  it('is large, balanced between the languages and covers every label', () => {
    expect(examples.length).toBeGreaterThanOrEqual(300);
    const en = examples.filter((e) => e.lang === 'en').length;
    expect(Math.abs(en / examples.length - 0.5)).toBeLessThan(0.1);
    expect(new Set(examples.map((e) => e.label))).toEqual(new Set(['frustration', 'satisfaction', 'neutral']));
  });

  it.each(['en', 'pt'] as const)('keeps frustration F1 ≥ 0.85 in %s (regression guard)', (lang) => {
    const pairs = examples.filter((e) => e.lang === lang).map((e) => ({ truth: e.label, predicted: label(e.text, e.previous) }));
    expect(classMetrics(confusionMatrix(pairs)).frustration.f1).toBeGreaterThanOrEqual(0.85);
  });
});
