/**
 * Judging an everyday answer: its code (run or parsed in the sandbox, see quality-sandbox.ts) and
 * the language of its prose. An answer passes when both hold.
 */
import { extractQuery, proseLanguage, pythonBlocks, scriptSource, type Language } from './quality-extract.js';
import { sqlFixtures, type EverydayQuestion } from './quality-questions.js';
import { runPython, runScript, type Outcome, type SandboxLimits } from './quality-sandbox.js';

export interface EverydayResult {
  code: Outcome;
  language: { expected: 'pt' | 'en'; found: Language; pt: number; en: number; ok: boolean };
  passed: boolean;
}

export async function checkEveryday(question: EverydayQuestion, answer: string, limits?: SandboxLimits): Promise<EverydayResult> {
  const code = await checkCode(question, answer, limits);
  const found = proseLanguage(answer);
  const language = { expected: question.language, found: found.language, pt: found.pt, en: found.en, ok: found.language === question.language };
  return { code, language, passed: code.verdict === 'pass' && language.ok };
}

async function checkCode(question: EverydayQuestion, answer: string, limits?: SandboxLimits): Promise<Outcome> {
  const { check } = question;
  const noCode = (what: string): Outcome => ({ verdict: 'no-code', detail: `no ${what} in the answer` });
  switch (check.kind) {
    case 'python': {
      const { blocks, truncated } = pythonBlocks(answer);
      return blocks.length ? runPython({ mode: 'python', blocks, truncated, test: check.test }, limits) : noCode('Python code');
    }
    case 'model-class': {
      const { blocks, truncated } = pythonBlocks(answer);
      return blocks.length ? runPython({ mode: 'model-class', blocks, truncated, spec: check.spec }, limits) : noCode('Python code');
    }
    case 'sql': {
      const sql = extractQuery(answer);
      return sql
        ? runPython({ mode: 'sql', schema: sqlFixtures[check.fixture], sql, expected: check.expected, ordered: check.ordered }, limits)
        : noCode('SELECT query');
    }
    case 'script': {
      const script = scriptSource(answer);
      return script ? runScript({ ...script, test: check.test }, limits) : noCode('JavaScript/TypeScript code');
    }
  }
}
