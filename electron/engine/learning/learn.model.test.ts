/**
 * `npllm learn` as users run it: real `npllm` processes (built by `npm run build:engine`), the real
 * SmolLM2 fixture, the real npllm-train (`npm run build:trainer`), PGlite. Two projects share the
 * `python` adapter: the first is learned into v1, the second continues it with replay and MAS; a run
 * killed mid-training leaves the stable version intact and is recorded as interrupted by the next;
 * bad input is refused with a fix. Small on purpose (8 steps of 64 tokens, 4 windows to judge and
 * measure importance, 1 trainer thread): it checks the wiring, not how well the model learns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterRecord, AskResponse, LearningRunRecord, LearningStats, LearnResult, ModulatorStatus } from '../../../shared/contract.js';
import type { SerializedError } from '../../../shared/errors.js';
import { cliPath, lastJson, runNpllm, type CliRun } from '../test/cli.js';
import { packageRoot } from '../base/paths.js';
import { pythonStdlib } from '../test/python-stdlib.js';
import { tempHome, testEnv, type TempHome } from '../test/support.js';
import { trainerBinary } from './native-trainer.js';

let home: TempHome;
let env: NodeJS.ProcessEnv;
let config: string;
let projectA: string;
let projectB: string;
let learnedA: LearnResult;
const killLater: ChildProcess[] = [];

const learnArgs = (project: string) => ['learn', '--project', project, '--max-steps', '8', '--trainer-threads', '1', '--json', '-c', config];
const npllm = (args: string[]) => runNpllm(args, env);

function project(name: string, files: string[], pyproject: string): string {
  const dir = join(home.home, name);
  mkdirSync(dir);
  for (const file of files) copyFileSync(file, join(dir, file.split('/').at(-1)!));
  writeFileSync(join(dir, 'pyproject.toml'), pyproject);
  return realpathSync(dir);
}

async function indexAndConfirm(dir: string): Promise<void> {
  const indexed = await npllm(['index', dir, '--json']);
  expect(indexed.code, indexed.stderr).toBe(0);
  const confirmed = await npllm(['context', 'confirm', dir, '--yes', '--json']);
  expect(confirmed.code, confirmed.stderr).toBe(0);
  expect(lastJson<{ stacks: { name: string }[] }>(confirmed).stacks[0]!.name).toBe('python');
}

async function adapters(): Promise<AdapterRecord[]> {
  const run = await npllm(['adapters', 'list', '--json']);
  expect(run.code, run.stderr).toBe(0);
  return lastJson<AdapterRecord[]>(run);
}

async function runs(): Promise<LearningRunRecord[]> {
  const run = await npllm(['stats', '--learning', '--adapter', 'python', '--runs', '50', '--json']);
  expect(run.code, run.stderr).toBe(0);
  return lastJson<LearningStats>(run).adapters[0]?.runs ?? [];
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const errorOf = (run: CliRun) => lastJson<{ error: SerializedError }>(run).error;

/** Processes whose command line mentions this test's data folder (the CLI and its trainers). */
function processesInHome(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(home.home)) found.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

async function waitFor(probe: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(() => {
  if (!existsSync(join(packageRoot, 'dist', 'electron', 'engine', 'cli', 'main.js'))) throw new Error('The CLI is not built: run "npm run build:engine".');
  // Throws with the fix ("npm run build:trainer") when the trainer is missing.
  trainerBinary();
  home = tempHome('npllm-learn-');
  env = testEnv(home.home);
  config = join(home.home, 'learning.yaml');
  // The judge's thresholds at zero: 8 steps of a tiny model check the wiring, not whether it learns beyond noise.
  writeFileSync(
    config,
    'learning:\n  ctx: 64\n  heldOutWindows: 6\n  evalGroups: 3\n  importanceWindows: 4\n  threads: 1\n  minImprovement: 0\n  significance: 0\n',
  );
  const python = pythonStdlib('the projects this test learns');
  const json = ['__init__.py', 'decoder.py', 'encoder.py', 'scanner.py', 'tool.py'].map((file) => join(python, 'json', file));
  const email = ['parser.py', 'feedparser.py', 'charset.py', 'encoders.py'].map((file) => join(python, 'email', file));
  projectA = project('jsonlib', json, '[project]\nname = "jsonlib"\nversion = "0.1"\n');
  projectB = project('maillib', email, '[project]\nname = "maillib"\nversion = "0.1"\n');
});

afterAll(() => {
  // A test that failed before killing its run leaves it (and its trainer) running.
  for (const child of killLater) if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
  home.cleanup();
});

describe('npllm learn (real CLI, model, trainer and PGlite)', () => {
  it(
    'learns a first project into v1, promoted, judged with its noise, measured on an indexed project it has not learned; it answers its questions and shows in the registry and the stats',
    { timeout: 300_000 },
    async () => {
      await indexAndConfirm(projectA);
      // Indexed, not learned: the run measures v1 there against the base (forward transfer).
      expect((await npllm(['index', projectB, '--json'])).code).toBe(0);
      const learned = await npllm(learnArgs(projectA));
      expect(learned.code, learned.stderr).toBe(0);
      learnedA = lastJson<LearnResult>(learned);
      expect(learnedA).toMatchObject({ adapter: 'python', version: 1, channel: 'stable', promoted: true, parentVersion: null });
      expect(Object.keys(learnedA.nllBefore)).toEqual([projectA]);
      expect(Object.keys(learnedA.nllAfter)).toEqual([projectA]);
      expect(learnedA.nllAfter[projectA]).toBeLessThan(learnedA.nllBefore[projectA]!);
      expect(learnedA.reason).toMatch(/^promoted: held-out NLL on this project .* nats over 3 groups\)$/);
      expect(learnedA.stats).toMatchObject({ steps: 8, replayTexts: 0, masLambda: 0, seed: 1, heldOutGroups: 3, transferProjects: 1 });
      const test = learnedA.tests![projectA]!;
      expect(test).toMatchObject({ before: learnedA.nllBefore[projectA], after: learnedA.nllAfter[projectA], groups: 3, significant: true });
      expect(test.standardError).toBeGreaterThan(0);
      expect(Number.isFinite(test.standardError)).toBe(true);
      expect(Object.keys(learnedA.transfer!)).toEqual([projectB]);
      expect(learnedA.transfer![projectB]).toMatchObject({ groups: 3, significant: expect.any(Boolean) });
      expect(learnedA.stats.heldOutTexts).toBeGreaterThan(0);
      expect(learnedA.lossCurve).toHaveLength(8);
      expect(learnedA.lossCurve.every(Number.isFinite)).toBe(true);
      // The run's scratch folder is gone, and so is the lock.
      expect(readdirSync(join(home.home, 'learning', 'runs'))).toEqual([]);
      expect(existsSync(join(home.home, 'learning', 'python', 'lock'))).toBe(false);

      // The modulator refit to the new version within the same command (learnAfterConsolidation):
      // the oracle of A's held-out examples measured and a fit registered, judged on them; with no
      // answers logged yet it cannot be promoted, whatever the oracle says (8 steps of a tiny model
      // may leave the gap as it was).
      expect(learned.stderr).toMatch(/Measuring the oracle for .*jsonlib: 3 mixes × \d+ examples/);
      const modulator = await npllm(['modulator', 'status', '--json']);
      expect(modulator.code, modulator.stderr).toBe(0);
      const status = lastJson<ModulatorStatus>(modulator);
      expect(status).toMatchObject({ version: 0, channel: 'prior', oracleGap: null });
      expect(status.versions).toEqual([expect.objectContaining({ version: 1, origin: 'offline', channel: 'experimental' })]);
      expect(status.versions[0]!.reason).toMatch(/^kept experimental: .*oracle gap [\d.]+ % → [\d.]+ % on \d+ held-out examples/);
      expect(status.versions[0]!.metrics.examples).toBeGreaterThan(0);

      const asked = await npllm(['--query', 'What does JSONDecoder.raw_decode return?', '-p', projectA, '--json', '--max-tokens', '4']);
      expect(asked.code, asked.stderr).toBe(0);
      expect(lastJson<AskResponse>(asked).adapters).toEqual([{ name: 'python', version: '1', scale: expect.any(Number) }]);

      const [v1] = await adapters();
      expect(v1).toMatchObject({
        name: 'python',
        version: 1,
        channel: 'stable',
        scope: 'python',
        project: projectA,
        trainingRunId: learnedA.runId,
        parentVersion: null,
      });
      expect(v1!.importancePath).toEqual(expect.stringMatching(/^adapters\/python\/importance\/.+\.gguf$/));
      expect(existsSync(join(home.home, v1!.importancePath!))).toBe(true);
      expect(sha256(join(home.home, v1!.path))).toBe(v1!.sha256);

      const stats = await npllm(['stats', '--learning', '--json']);
      expect(stats.code, stats.stderr).toBe(0);
      const [python] = lastJson<LearningStats>(stats).adapters;
      expect(python).toMatchObject({ adapter: 'python' });
      expect(python!.runs).toEqual([
        expect.objectContaining({
          id: learnedA.runId,
          status: 'completed',
          version: 1,
          promoted: true,
          project: projectA,
          nllBefore: learnedA.nllBefore,
          nllAfter: learnedA.nllAfter,
        }),
      ]);
      // The forgetting matrix: the base (row 0) and v1 on project A, as the run measured them, and B measured, not learned (last column).
      expect(python!.versions.map((row) => row.version)).toEqual([0, 1]);
      expect(python!.projects).toEqual([projectA, projectB]);
      expect(python!.nll[0]![0]).toBeCloseTo(learnedA.nllBefore[projectA]!, 6);
      expect(python!.nll[1]![0]).toBeCloseTo(learnedA.nllAfter[projectA]!, 6);
      expect(python!.nll[1]![1]).toBeCloseTo(learnedA.transfer![projectB]!.after, 6);
    },
  );

  it('learns a second project on the same adapter with replay and MAS, judged on both projects', { timeout: 300_000 }, async () => {
    expect(learnedA, 'the first test learned project A').toBeDefined();
    await indexAndConfirm(projectB);
    const learned = await npllm(learnArgs(projectB));
    expect(learned.code, learned.stderr).toBe(0);
    const result = lastJson<LearnResult>(learned);
    expect(result).toMatchObject({ adapter: 'python', version: 2, parentVersion: 1 });
    expect(Object.keys(result.nllBefore).sort()).toEqual([projectA, projectB].sort());
    expect(Object.keys(result.nllAfter).sort()).toEqual([projectA, projectB].sort());
    // v1 on A and on B were measured by the first run on the same frozen held-out samples: reused, not measured again.
    expect(result.nllBefore[projectA]).toBe(learnedA.nllAfter[projectA]);
    expect(result.nllBefore[projectB]).toBe(learnedA.transfer![projectB]!.after);
    expect(Object.keys(result.tests!).sort()).toEqual([projectA, projectB].sort());
    expect(result.transfer).toEqual({});
    expect(result.stats.replayTexts).toBeGreaterThan(0);
    expect(result.stats.masLambda).toBeGreaterThan(0);
    expect(Object.values(result.nllAfter).every(Number.isFinite)).toBe(true);
    expect(['stable', 'experimental']).toContain(result.channel);
    expect(result.promoted).toBe(result.channel === 'stable');
    expect(result.reason).toMatch(result.promoted ? /^promoted: .*1 earlier project within/ : /^kept experimental: /);

    const listed = await adapters();
    expect(listed.find((record) => record.version === 2)).toMatchObject({ channel: result.channel, parentVersion: 1, project: projectB });
    expect(listed.find((record) => record.version === 1)!.channel).toBe(result.promoted ? 'archived' : 'stable');
  });

  it(
    'survives a run killed mid-training: the stable version stays intact and the next start records the killed one as interrupted',
    { timeout: 300_000 },
    async () => {
      const before = await adapters();
      const runsBefore = await runs();
      const stable = before.find((record) => record.channel === 'stable')!;

      const child = spawn(process.execPath, [cliPath, ...learnArgs(projectA)], { env, cwd: packageRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      killLater.push(child);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.resume();
      const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
      await waitFor(() => /step \d+\/\d+/.test(stderr) || child.exitCode !== null, 'the killed run to train', 180_000);
      expect(child.exitCode, stderr).toBeNull();
      // The whole process group: the CLI and the npllm-train child it runs.
      process.kill(-child.pid!, 'SIGKILL');
      await closed;
      await waitFor(() => processesInHome().length === 0, 'the trainer to die with the CLI', 10_000);

      expect(sha256(join(home.home, stable.path))).toBe(stable.sha256);
      // The next start (any command) closes the run the killed process left running, and removes its scratch folder.
      expect(await adapters()).toEqual(before);
      const killed = (await runs()).find((run) => !runsBefore.some((earlier) => earlier.id === run.id));
      expect(killed, 'the killed run is recorded').toMatchObject({ project: projectA, status: 'failed', version: null, error: { code: 'LEARNING_FAILED' } });
      expect(killed!.reason).toMatch(/^interrupted: /);
      expect(killed!.finishedAt).not.toBeNull();
      expect((await runs()).filter((run) => run.status === 'running')).toEqual([]);
      expect(readdirSync(join(home.home, 'learning', 'runs'))).toEqual([]);
      expect(existsSync(join(home.home, 'learning', 'python', 'lock'))).toBe(false);

      const again = await npllm(learnArgs(projectA));
      expect(again.code, again.stderr).toBe(0);
      const result = lastJson<LearnResult>(again);
      expect(result).toMatchObject({ adapter: 'python', version: before.length + 1, parentVersion: stable.version });
      expect(Object.keys(result.nllBefore).sort()).toEqual([projectA, projectB].sort());
    },
  );

  it('refuses a project without a confirmed context, naming npllm context confirm', async () => {
    const json = join(pythonStdlib('the projects this test learns'), 'json');
    const unconfirmed = project('unconfirmed', [join(json, 'decoder.py'), join(json, 'scanner.py')], '[project]\nname = "x"\n');
    const run = await npllm(learnArgs(unconfirmed));
    expect(run.code).toBe(2);
    expect(errorOf(run)).toMatchObject({ code: 'REQUEST_INVALID' });
    expect(run.stderr).toContain(`npllm context confirm ${unconfirmed}`);
  });

  it('refuses an indexed project with too little code, naming npllm index', { timeout: 120_000 }, async () => {
    const tiny = join(home.home, 'tiny');
    mkdirSync(tiny);
    writeFileSync(join(tiny, 'pyproject.toml'), '[project]\nname = "tiny"\n');
    writeFileSync(join(tiny, 'main.py'), 'print("hi")\n');
    await indexAndConfirm(tiny);
    const before = await runs();
    const run = await npllm(learnArgs(tiny));
    expect(run.code).toBe(2);
    const error = errorOf(run);
    expect(error.code).toBe('LEARNING_NO_DATA');
    expect(error.fix).toContain(`npllm index ${realpathSync(tiny)}`);
    expect(run.stderr).toMatch(/too little to learn from/);
    // Refused before a run started: nothing recorded, nothing locked.
    expect(await runs()).toHaveLength(before.length);
    expect(existsSync(join(home.home, 'learning', 'python', 'lock'))).toBe(false);
  });

  it('refuses to learn from a damaged stable adapter, leaves the registry intact, and serving leaves it out', { timeout: 180_000 }, async () => {
    const before = await adapters();
    const runsBefore = await runs();
    const stable = before.find((record) => record.channel === 'stable')!;
    const file = join(home.home, stable.path);
    const bytes = readFileSync(file);
    bytes.fill(0xff, bytes.length >> 1, (bytes.length >> 1) + 4096);
    writeFileSync(file, bytes);

    const learned = await npllm(learnArgs(projectA));
    expect(learned.code, learned.stderr).toBe(3);
    const error = errorOf(learned);
    expect(error.code).toBe('ADAPTER_INVALID');
    expect(error.message).toContain(`${file} changed since it was registered`);
    expect(error.fix).toMatch(/npllm adapters rollback/);
    expect(await adapters()).toEqual(before);
    expect(await runs()).toEqual(runsBefore);
    expect(existsSync(join(home.home, 'learning', 'python', 'lock'))).toBe(false);

    const asked = await npllm(['--query', 'What does JSONDecoder.raw_decode return?', '-p', projectA, '--json', '--max-tokens', '4']);
    expect(asked.code, asked.stderr).toBe(0);
    expect(lastJson<AskResponse>(asked).adapters).toEqual([]);
    expect(asked.stderr).toMatch(new RegExp(`adapter python v${stable.version} left out of answers: .*changed since it was registered`));

    // The fix works: an earlier intact version becomes stable again.
    const rolled = await npllm(['adapters', 'rollback', 'python', '--json']);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(lastJson<{ stable: AdapterRecord }>(rolled).stable.version).toBeLessThan(stable.version);
  });
});
