/**
 * What a user judges npllm by, on the default model (coder-1.5b), through the product: the
 * README's first command answers the Odoo question in Portuguese with an Odoo model, and a Python
 * function npllm writes passes asserts it has not seen, and most of its own claims hold. Greedy (temperature 0) and bounded in
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
    const verdict = await checkEveryday(
      everydayQuestions.find((question) => question.id === 'pt-odoo-modelo')!,
      result.answer,
    );
    expect(verdict.code, result.answer).toMatchObject({ verdict: 'pass' });
    expect(verdict.language, result.answer).toMatchObject({ expected: 'pt', found: 'pt' });
  });

  it('writes a Python function that passes asserts it has not seen, and its own asserts that hold', async () => {
    const engine = await Engine.open(testConfig(home.home, { model: { name: 'coder-1.5b', temperature: 0, maxTokens: 400, contextSize: 4096 } }));
    try {
      const { answer } = await engine.ask({
        question:
          'Write a Python function `is_anagram(a, b)` that says whether two strings are anagrams, ignoring case and spaces. Add a few assert statements that test it.',
        source: 'bench',
      });
      const code = codeBlocks(answer)
        .filter((block) => ['python', 'py', ''].includes(block.language))
        .map((block) => block.code)
        .join('\n\n');
      expect(code, answer).toMatch(/def is_anagram\(/);
      // The model's own asserts are a claim about the function, and a model can claim wrongly (it once asserted that
      // "The rain in Spain" and "I see rain in Spain" are anagrams): each of them is checked against a reference, and the
      // function itself against asserts it has not seen. Its asserts are stripped before the function is run.
      const ownAsserts = code.split('\n').filter((line) => /^assert /.test(line));
      expect(ownAsserts.length, answer).toBeGreaterThan(0);
      const definitions = code
        .split('\n')
        .filter((line) => !/^assert /.test(line) && !/^print\(/.test(line))
        .join('\n');
      const program = join(home.home, 'anagram.py');
      writeFileSync(
        program,
        `${definitions}

def reference(a, b):
    norm = lambda s: sorted(s.replace(' ', '').lower())
    return norm(a) == norm(b)

for a, b in [('Listen', 'Silent'), ('Dormitory', 'Dirty room'), ('Hello', 'World'), ('abc', 'abd'), ('a b', 'BA'), ('aab', 'abb')]:
    assert bool(is_anagram(a, b)) == reference(a, b), (a, b)

import ast, sys
own = ${JSON.stringify(ownAsserts)}
claims = [ast.parse(line).body[0].test for line in own]
right = checked = 0
for claim in claims:
    # Only claims of the form is_anagram(x, y) == True/False (or bare/negated calls) can be checked against the reference.
    expected, call = True, claim
    if isinstance(claim, ast.UnaryOp) and isinstance(claim.op, ast.Not): expected, call = False, claim.operand
    if isinstance(claim, ast.Compare) and len(claim.comparators) == 1 and isinstance(claim.comparators[0], ast.Constant):
        expected, call = bool(claim.comparators[0].value), claim.left
        if isinstance(claim.ops[0], (ast.NotEq, ast.IsNot)): expected = not expected
    if not (isinstance(call, ast.Call) and len(call.args) == 2 and all(isinstance(arg, ast.Constant) for arg in call.args)): continue
    checked += 1
    a, b = call.args[0].value, call.args[1].value
    right += reference(a, b) == expected and bool(is_anagram(a, b)) == expected
print(right, checked)
`,
      );
      // A guard against generated code that never ends, not a speed check: this runs in milliseconds.
      const run = spawnSync('python3', ['-I', program], { encoding: 'utf8', timeout: 60_000 });
      expect(run.status, `${answer}\n--- stderr:\n${run.stderr}`).toBe(0);
      // Most of the model's claims are right and its function agrees with them; one wrong claim in a handful is tolerated.
      const [right, checked] = run.stdout.trim().split(' ').map(Number);
      expect(checked, run.stdout).toBeGreaterThan(0);
      expect(right! / checked!, `${answer}\n--- ${run.stdout}`).toBeGreaterThanOrEqual(0.75);
    } finally {
      await engine.dispose();
    }
  });
});
