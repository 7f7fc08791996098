/**
 * What a user judges npllm by, on the default model (coder-1.5b), through the product: the
 * README's first command answers the Odoo question in Portuguese with an Odoo model, and a Python
 * function npllm writes passes its own asserts when run. Greedy (temperature 0) and bounded in
 * tokens, so the answers are the same on every run; bench:quality measures many more questions.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeBlocks } from './quality-extract.js';
import { checkEveryday } from './quality-everyday.js';
import { everydayQuestions } from './quality-questions.js';
import { Engine } from '../electron/engine/engine.js';
import { packageRoot } from '../electron/engine/base/paths.js';
import { fixtureModelsDir, tempHome, testConfig, type TempHome } from '../electron/engine/test/support.js';

let home: TempHome;
beforeAll(() => {
  home = tempHome('npllm-answers-');
});
afterAll(() => home.cleanup());

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(packageRoot, 'bin/npllm.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('answers of the default model (Qwen2.5-Coder-1.5B-Instruct)', () => {
  it('answers "Como criar um modelo Odoo?" from the CLI in Portuguese, with a class deriving from models.Model that has a _name', async () => {
    // The README's command, with only the answer made deterministic and bounded.
    const config = join(home.home, 'greedy.yaml');
    writeFileSync(config, 'model:\n  temperature: 0\n  maxTokens: 700\n');
    const env = { PATH: process.env['PATH'], HOME: home.home, NPLLM_HOME: home.home, NPLLM_MODELS_DIR: fixtureModelsDir, NPLLM_THREADS: '1' };
    const { code, stdout, stderr } = await runCli(['--config', config, '--query', 'Como criar um modelo Odoo?', '--json'], env);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { answer: string; model: string };
    expect(result.model).toBe('qwen2.5-coder-1.5b-instruct-q4_k_m');
    const verdict = await checkEveryday(everydayQuestions.find((question) => question.id === 'pt-odoo-modelo')!, result.answer);
    expect(verdict.code, result.answer).toMatchObject({ verdict: 'pass' });
    expect(verdict.language, result.answer).toMatchObject({ expected: 'pt', found: 'pt' });
  });

  it('writes a Python function that passes its own asserts when run', async () => {
    const engine = await Engine.open(testConfig(home.home, { model: { name: 'coder-1.5b', temperature: 0, maxTokens: 400, contextSize: 4096 } }));
    try {
      const { answer } = await engine.ask({
        question: 'Write a Python function `is_anagram(a, b)` that says whether two strings are anagrams, ignoring case and spaces. Add a few assert statements that test it.',
        source: 'bench',
      });
      const code = codeBlocks(answer)
        .filter((block) => ['python', 'py', ''].includes(block.language))
        .map((block) => block.code)
        .join('\n\n');
      expect(code, answer).toMatch(/def is_anagram\(/);
      expect(code, answer).toMatch(/^\s*assert /m);
      const program = join(home.home, 'anagram.py');
      writeFileSync(program, code);
      // A guard against generated code that never ends, not a speed check: this runs in milliseconds.
      const run = spawnSync('python3', ['-I', program], { encoding: 'utf8', timeout: 60_000 });
      expect(run.status, `${answer}\n--- stderr:\n${run.stderr}`).toBe(0);
    } finally {
      await engine.dispose();
    }
  });
});
