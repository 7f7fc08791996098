/**
 * kill -9 at random points, then a restart: a real `npllm serve` process (the tiny model, PGlite,
 * the real embedder and trainer) is killed mid-answer, mid-feedback-write, mid-index and
 * mid-consolidation, at points chosen by a seeded generator and counted in events (tokens,
 * acknowledgements, stored batches, training steps), never in time. After every restart nothing
 * acknowledged is lost, nothing stays `pending` or `running`, an interrupted answer keeps what was
 * streamed, and indexing resumes to exactly the chunks of an uninterrupted run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexResult, InteractionRecord } from '../shared/contract.js';
import { openDatabase } from '../electron/engine/db/client.js';
import { chunks, feedbackEvents, interactions, projectFiles, trainingRuns } from '../electron/engine/db/schema.js';
import { Engine } from '../electron/engine/engine.js';
import { trainerBinary } from '../electron/engine/learning/native-trainer.js';
import { cliPath } from '../electron/engine/test/cli.js';
import { packageRoot } from '../electron/engine/base/paths.js';
import { hangGuardMs, tempHome, testConfig, testEnv, type TempHome } from '../electron/engine/test/support.js';
import { postJson } from './support.js';

/** mulberry32: the same kill points on every run, so a failure reproduces. */
function seeded(seed: number): (min: number, max: number) => number {
  let state = seed >>> 0;
  return (min, max) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return min + Math.floor(unit * (max - min + 1));
  };
}

const between = seeded(14);
let home: TempHome;
let env: NodeJS.ProcessEnv;
let config: string;
let project: string;
let server: { child: ChildProcess; url: string } | null = null;
const kills: { what: string; at: string }[] = [];

async function start(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cliPath, 'serve', '--port', '0', '-c', config], {
    env,
    cwd: packageRoot,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`npllm serve did not start:\n${log}`)), hangGuardMs);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      log = (log + chunk).slice(-20_000);
      const listening = /server listening on (http:\/\/\S+)/.exec(log);
      if (listening?.[1]) {
        clearTimeout(guard);
        resolve(listening[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(guard);
      reject(new Error(`npllm serve exited with ${code}:\n${log}`));
    });
  });
  return { child, url };
}

/** SIGKILL to the whole process group (the server and any trainer it runs), then wait for it to be gone. */
async function kill(what: string, at: string): Promise<void> {
  const { child } = server!;
  server = null;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  kills.push({ what, at });
}

async function restart(): Promise<string> {
  server = await start();
  return server.url;
}

/**
 * A streamed call; `onEvent` sees each event and may say `stop` (the test then kills the server
 * while the stream is open). Resolves with the events seen and whether the stream ended by itself.
 */
function stream(
  url: string,
  path: string,
  body: unknown,
  onEvent: (event: { type: string; text?: string; progress?: { label: string; fraction: number | null } }) => boolean,
): Promise<{ ended: boolean }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      { host: target.hostname, port: target.port, path, method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' } },
      (res) => {
        let buffer = '';
        let stopped = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while (!stopped && (end = buffer.indexOf('\n\n')) !== -1) {
            const line = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (!line.startsWith('data: ')) continue;
            const event = JSON.parse(line.slice(6)) as { type: string };
            if (event.type === 'done' || event.type === 'error') {
              stopped = true;
              resolve({ ended: true });
            } else if (onEvent(event)) {
              stopped = true;
              resolve({ ended: false });
            }
          }
        });
        res.on('error', () => undefined);
        res.on('close', () => {
          if (!stopped) resolve({ ended: true });
        });
      },
    );
    req.on('error', (error) => (kills.length ? resolve({ ended: true }) : reject(error)));
    req.end(JSON.stringify(body));
  });
}

async function listed(url: string): Promise<InteractionRecord[]> {
  const response = await postJson(url, '/api/interactions/list', { limit: 500 });
  expect(response.status, response.body).toBe(200);
  return (JSON.parse(response.body) as { items: InteractionRecord[] }).items;
}

beforeAll(async () => {
  // Throws with the fix ("npm run build:trainer") when the trainer is missing.
  trainerBinary();
  home = tempHome('npllm-hardening-kill-');
  env = testEnv(home.home);
  config = join(home.home, 'npllm.yaml');
  writeFileSync(config, 'learning:\n  ctx: 64\n  maxSteps: 8\n  heldOutWindows: 4\n  importanceWindows: 4\n  threads: 1\nmodel:\n  maxTokens: 160\n');
  project = join(home.home, 'maillib');
  mkdirSync(project);
  for (const file of readdirSync('/usr/lib/python3.11/email').filter((name) => name.endsWith('.py')))
    copyFileSync(join('/usr/lib/python3.11/email', file), join(project, file));
  writeFileSync(join(project, 'pyproject.toml'), '[project]\nname = "maillib"\nversion = "0.1"\n');
  project = realpathSync(project);
  await restart();
});

afterAll(async () => {
  if (server) await kill('cleanup', 'end of the test').catch(() => undefined);
  home?.cleanup();
});

describe('kill -9 at random points, then restart', () => {
  const answerKills = 5;
  const acknowledged: string[] = [];

  it(`mid-answer (${answerKills} kills): the answer becomes interrupted, keeping what was streamed`, async () => {
    let attempts = 0;
    for (let round = 0; round < answerKills; round++) {
      expect(++attempts, 'the model kept finishing before the kill point').toBeLessThanOrEqual(answerKills * 3);
      const question = `List fifty numbered tips for writing Python, one per line (attempt ${attempts}).`;
      const killAt = between(8, 64);
      let streamed = '';
      let tokens = 0;
      const { ended } = await stream(server!.url, '/api/chat/ask', { question, noCache: true, maxTokens: 160, conversationId: `kill-${attempts}` }, (event) => {
        if (event.type !== 'token') return false;
        streamed += event.text;
        return ++tokens >= killAt;
      });
      if (ended) {
        // The model finished first: not a kill; the next round tries again.
        round--;
        continue;
      }
      await kill('answer', `token ${killAt}`);
      const url = await restart();
      const items = await listed(url);
      expect(items.filter((item) => item.status === 'pending')).toEqual([]);
      const record = items.find((item) => item.question === question)!;
      expect(record, `the killed question (attempt ${attempts}) was recorded`).toBeDefined();
      expect(record.status).toBe('interrupted');
      expect(record.error?.code).toBe('GENERATION_FAILED');
      // What was saved is what was streamed, up to the last periodic write before the kill.
      expect(streamed.startsWith(record.answer ?? '')).toBe(true);
      if (killAt >= 48) expect(record.answer?.length, `a kill after ${killAt} tokens keeps a partial answer`).toBeGreaterThan(0);
    }
  });

  it('mid-feedback-write (3 kills): every acknowledged event survives', async () => {
    const target = (await listed(server!.url))[0]!.id;
    for (let round = 0; round < 3; round++) {
      const acks = between(2, 12);
      for (let event = 0; event < acks; event++) {
        const eventId = `kill-${round}-${event}`;
        const response = await postJson(server!.url, '/api/feedback/record', {
          eventId,
          interactionId: target,
          type: event % 2 ? 'copied' : 'dwell',
          ...(event % 2 ? {} : { value: event + 1 }),
        });
        expect(response.status, response.body).toBe(200);
        acknowledged.push(eventId);
      }
      // The next write is on its way when the process dies.
      const inFlight = postJson(server!.url, '/api/feedback/record', { eventId: `kill-${round}-inflight`, interactionId: target, type: 'copied' }).catch(
        () => null,
      );
      await kill('feedback', `after ${acks} acknowledged events, with one in flight`);
      await inFlight;
      await restart();
    }
  });

  let killedIndexRuns = 0;

  it('mid-index (2 kills): the next run resumes to exactly the chunks of an uninterrupted one', async () => {
    for (let round = 0; round < 2; round++) {
      const stopAfter = between(1, 3);
      let stored = 0;
      // Each "Indexing: n/m" event with n > 0 follows a batch committed to the database.
      const { ended } = await stream(
        server!.url,
        '/api/rag/index',
        { path: project },
        (event) => event.type === 'progress' && /^Indexing: [1-9]/.test(event.progress?.label ?? '') && ++stored >= stopAfter,
      );
      expect(ended, 'the index was still running at the kill point').toBe(false);
      await kill('index', `after ${stopAfter} stored batch(es)`);
      killedIndexRuns++;
      await restart();
    }
    const finished = await postJson(server!.url, '/api/rag/index', { path: project });
    expect(finished.status, finished.body).toBe(200);
    const resumed = JSON.parse(finished.body) as IndexResult;

    const clean = tempHome('npllm-hardening-clean-');
    const engine = await Engine.open(testConfig(clean.home));
    try {
      const reference: IndexResult = await engine.api.call('rag/index', { path: project }, { caller: 'cli' });
      expect([resumed.files, resumed.chunks]).toEqual([reference.files, reference.chunks]);
      expect(resumed.unchangedFiles, 'the killed runs had stored some files').toBeGreaterThan(0);
    } finally {
      await engine.dispose();
      clean.cleanup();
    }
  });

  it('mid-consolidation (2 kills): no run stays running, no version half-registered, the next run learns', async () => {
    expect(killedIndexRuns).toBe(2);
    const confirmed = await postJson(server!.url, '/api/context/confirm', { path: project });
    expect(confirmed.status, confirmed.body).toBe(200);
    for (let round = 0; round < 2; round++) {
      const stopAt = between(1, 6);
      let steps = 0;
      const { ended } = await stream(
        server!.url,
        '/api/learning/consolidate',
        { project },
        (event) => event.type === 'progress' && /step \d+\/\d+/.test(event.progress?.label ?? '') && ++steps >= stopAt,
      );
      expect(ended, 'the consolidation was still training at the kill point').toBe(false);
      await kill('consolidation', `training step ${stopAt}`);
      await restart();
      const adapters = await postJson(server!.url, '/api/adapters/list', {});
      expect(JSON.parse(adapters.body)).toEqual({ items: [] });
    }
    const learned = await postJson(server!.url, '/api/learning/consolidate', { project });
    expect(learned.status, learned.body).toBe(200);
    expect(JSON.parse(learned.body)).toMatchObject({ adapter: 'python', version: 1 });
  });

  it(`in all: at least 10 kills, nothing acknowledged lost, nothing pending or running`, async () => {
    expect(kills.length).toBeGreaterThanOrEqual(10);
    await kill('stop', 'end of the test');
    const database = await openDatabase({ url: null, dir: join(home.home, 'db') });
    try {
      const db = database.db;
      expect(await db.select({ id: interactions.id }).from(interactions).where(eq(interactions.status, 'pending'))).toEqual([]);
      expect((await db.select({ id: interactions.id }).from(interactions).where(eq(interactions.status, 'interrupted'))).length).toBe(answerKills);
      const stored = await db.select({ id: feedbackEvents.id }).from(feedbackEvents).where(inArray(feedbackEvents.id, acknowledged));
      expect(stored.map((row) => row.id).sort()).toEqual([...acknowledged].sort());
      expect(await db.select({ id: trainingRuns.id }).from(trainingRuns).where(eq(trainingRuns.status, 'running'))).toEqual([]);
      const interrupted = await db.select({ reason: trainingRuns.reason }).from(trainingRuns).where(eq(trainingRuns.status, 'failed'));
      expect(interrupted.filter((run) => run.reason?.startsWith('interrupted: '))).toHaveLength(2);
      // Every indexed file has exactly the chunks it says it has: no half file, no duplicate.
      const files = await db.select({ relativePath: projectFiles.relativePath, chunkCount: projectFiles.chunkCount }).from(projectFiles);
      const rows = await db.select({ relativePath: chunks.relativePath }).from(chunks);
      for (const file of files) expect(rows.filter((row) => row.relativePath === file.relativePath).length, file.relativePath).toBe(file.chunkCount);
      expect(readdirSync(join(home.home, 'learning', 'runs'))).toEqual([]);
    } finally {
      await database.close();
    }
    process.stdout.write(`[hardening] ${kills.length} kills: ${kills.map((entry) => `${entry.what} at ${entry.at}`).join('; ')}\n`);
  });
});
