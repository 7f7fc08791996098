/**
 * The CLI as users run it: a real `node bin/npllm.js` process (built by `npm run build`), the real
 * model from the shared cache, a fresh data folder per test.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../base/paths.js';
import { tempHome, testEnv, type TempHome } from '../test/support.js';
import { cliPath as cli, lastJson, runNpllm } from '../test/cli.js';

const npllm = runNpllm;

let home: TempHome;
beforeEach(() => {
  home = tempHome();
});
afterEach(() => home.cleanup());

const question = 'Write a Python function that reverses a string';

describe('npllm --query (real model)', () => {
  it('prints the documented JSON, and serves the second identical call from the cache', async () => {
    const first = await npllm(['--query', question, '--json', '--max-tokens', '40'], testEnv(home.home));
    expect(first.code, first.stderr).toBe(0);
    const answer = lastJson(first);
    expect(Object.keys(answer)).toEqual(expect.arrayContaining(['answer', 'interactionId', 'cached', 'model', 'timings']));
    expect(answer).toMatchObject({ cached: false, model: 'SmolLM2-135M-Instruct.Q4_1' });
    expect(typeof answer['answer']).toBe('string');
    expect((answer['answer'] as string).length).toBeGreaterThan(0);
    expect(answer['timings']).toMatchObject({ ttftMs: expect.any(Number), totalMs: expect.any(Number), tokens: expect.any(Number) });
    expect(first.stderr).toContain('Loading SmolLM2');

    const second = await npllm(['--query', question, '--json', '--max-tokens', '40'], testEnv(home.home));
    expect(second.code, second.stderr).toBe(0);
    expect(lastJson(second)).toMatchObject({ cached: true, answer: answer['answer'], cachedFrom: answer['interactionId'] });
    expect(second.stderr).not.toContain('Loading SmolLM2');
  });

  it('streams the answer to stdout and keeps logs on stderr', async () => {
    const run = await npllm(['--query', 'Como criar um modelo Odoo?', '--max-tokens', '24', '--threads', '1'], testEnv(home.home));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().length).toBeGreaterThan(0);
    expect(run.stdout).not.toContain('[npllm]');
    expect(run.stderr).toMatch(/interaction [0-9a-f-]{36}/);
  });
});

describe('npllm models', () => {
  it('lists the catalogue as documented JSON, marking what is downloaded and the configured default', async () => {
    const run = await npllm(['models', 'list', '--json'], testEnv(home.home));
    expect(run.code, run.stderr).toBe(0);
    const items = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>[];
    expect(items.map((item) => item['id'])).toEqual(['coder-1.5b', 'coder-0.5b', 'smollm2-135m']);
    for (const item of items) expect(Object.keys(item)).toEqual(['id', 'name', 'sizeBytes', 'licence', 'installed', 'default']);
    // The test environment answers with the tiny model, whose file is in the shared cache.
    expect(items.find((item) => item['default'])).toMatchObject({ id: 'smollm2-135m', installed: true, licence: 'Apache-2.0' });
    expect(items.filter((item) => item['default'])).toHaveLength(1);
  });

  it('pulls a catalogue model already in the models folder without downloading it', async () => {
    const run = await npllm(['models', 'pull', 'smollm2-135m', '--json'], testEnv(home.home));
    expect(run.code, run.stderr).toBe(0);
    expect(lastJson(run)).toMatchObject({ id: 'smollm2-135m', sizeBytes: 98_362_432, path: expect.stringMatching(/SmolLM2-135M-Instruct\.Q4_1\.gguf$/) });
    expect(run.stderr).not.toContain('Downloading');
  });
});

describe('npllm errors: a clear message, a fix and a non-zero exit', () => {
  const cases: [string, string[], Record<string, string>, number, RegExp][] = [
    ['an empty question', ['--query', '  '], {}, 2, /question is empty/],
    ['a missing model', ['--query', 'hi', '--model', '/nowhere/model.gguf'], {}, 3, /\/nowhere\/model\.gguf does not exist[\s\S]*fix:/],
    ['an unknown config key', ['--query', 'hi', '--config', 'CONFIG'], {}, 2, /Unknown configuration key "model\.thread"[\s\S]*fix:/],
    [
      'an unreachable DATABASE_URL',
      ['--query', 'hi'],
      { DATABASE_URL: 'postgres://npllm:pw@127.0.0.1:9/npllm' },
      4,
      /Cannot reach the database[\s\S]*fix:.*DATABASE_URL/,
    ],
    ['an unwritable data folder', ['--query', 'hi'], { NPLLM_HOME: 'BLOCKED/home' }, 4, /cannot be created or written[\s\S]*fix:.*NPLLM_HOME/],
    ['a bad --threads', ['--query', 'hi', '--threads', 'lots'], {}, 2, /--threads must be a whole number/],
    [
      'an unknown catalogue model',
      ['models', 'pull', 'gpt-5'],
      {},
      2,
      /No model "gpt-5" in the catalogue[\s\S]*fix: Use one of coder-1\.5b, coder-0\.5b, smollm2-135m/,
    ],
    ['an unknown model.name', ['--query', 'hi'], { NPLLM_MODEL_NAME: 'gpt-5' }, 2, /"model\.name" is invalid[\s\S]*coder-1\.5b/],
  ];
  for (const [name, args, extraEnv, code, message] of cases) {
    it(name, async () => {
      const config = join(home.home, 'bad.yaml');
      writeFileSync(config, 'model:\n  thread: 2\n');
      const blocker = join(home.home, 'file');
      writeFileSync(blocker, '');
      const env = testEnv(home.home, Object.fromEntries(Object.entries(extraEnv).map(([key, value]) => [key, value.replace('BLOCKED', blocker)])));
      const run = await npllm(
        args.map((arg) => (arg === 'CONFIG' ? config : arg)),
        env,
      );
      expect(run.code).toBe(code);
      expect(run.stderr).toMatch(message);
    });
  }

  it('a file that is not a model', async () => {
    const notModel = join(home.home, 'notes.gguf');
    writeFileSync(notModel, 'hello');
    const run = await npllm(['--query', 'hi', '--model', notModel, '--json'], testEnv(home.home));
    expect(run.code).toBe(3);
    expect(lastJson(run)).toMatchObject({ error: { code: 'MODEL_INVALID' } });
  });

  it('a 1 MB question from stdin', async () => {
    const run = await npllm(['--query', '-', '--json'], testEnv(home.home), 'é'.repeat(1024 * 1024));
    expect(run.code).toBe(2);
    expect(lastJson(run)).toMatchObject({ error: { code: 'QUERY_TOO_LONG' } });
  });
});

describe('npllm index and --project (real parsers, embedder and model)', () => {
  it('indexes with the documented JSON, then answers a project question citing its sources', async () => {
    const project = join(home.home, 'calc');
    mkdirSync(project);
    writeFileSync(
      join(project, 'tax.py'),
      'def apply_vat(amount, rate=0.23):\n    """Add value-added tax to a net amount."""\n    return round(amount * (1 + rate), 2)\n',
    );
    writeFileSync(join(project, '.env'), 'SECRET_KEY=abc\n');
    const env = testEnv(home.home);
    const indexed = await npllm(['index', project, '--json'], env);
    expect(indexed.code, indexed.stderr).toBe(0);
    expect(lastJson(indexed)).toMatchObject({ files: 1, chunks: 1, secretsSkipped: 1, skipped: expect.any(Object), seconds: expect.any(Number) });
    expect(indexed.stderr).toMatch(/Indexing: 1\/1 changed files/);

    const asked = await npllm(['--project', project, '--query', 'What does `apply_vat` return?', '--json', '--max-tokens', '16'], env);
    expect(asked.code, asked.stderr).toBe(0);
    expect(lastJson(asked)).toMatchObject({ retrieval: { used: true, sources: [{ path: 'tax.py', startLine: 1, endLine: 3, symbol: 'apply_vat' }] } });

    const streamed = await npllm(['--project', project, '--query', 'Explain `apply_vat` briefly', '--max-tokens', '16'], env);
    expect(streamed.stdout).toContain('Sources:\n- tax.py:1-3 (apply_vat)');
  });

  it('names a project folder that does not exist', async () => {
    const run = await npllm(['index', join(home.home, 'missing'), '--json'], testEnv(home.home));
    expect(run.code).toBe(2);
    expect(lastJson(run)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});

describe('npllm --config (server mode)', () => {
  it('serves /health and /v1/chat/completions, holds the database lock, and stops cleanly', async () => {
    const env = testEnv(home.home, { NPLLM_PORT: '0', NPLLM_MAX_TOKENS: '24' });
    const server = spawn(process.execPath, [cli, '--config', join(packageRoot, 'config', 'production.yaml')], { env, cwd: packageRoot });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      server.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on (http:\/\/[^\s]+)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      server.on('close', () => reject(new Error(`server exited: ${stderr}`)));
    });
    try {
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const completion = (await (
        await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: question }] }),
        })
      ).json()) as { choices: { message: { content: string } }[] };
      expect(completion.choices[0]?.message.content.length).toBeGreaterThan(0);

      const locked = await npllm(['--query', question], env);
      expect(locked.code).toBe(4);
      expect(locked.stderr).toMatch(/in use by another npllm process \(pid \d+[\s\S]*fix:/);
    } finally {
      const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    const after = await npllm(['--query', question, '--json'], env);
    expect(lastJson(after)).toMatchObject({ cached: true });
  });
});
