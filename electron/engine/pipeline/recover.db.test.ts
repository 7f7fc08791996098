/**
 * Start-up recovery on a real PGlite: pending answers of dead processes become interrupted with
 * their partial text, this process's own are left alone; on a shared server only this machine's
 * dead processes' rows are touched. And a value the database refuses is the request's fault, said
 * without the statement.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseFailure, openDatabase, type Database } from '../db/client.js';
import { newInteractionId } from '../data-collection/ids.js';
import { findInteraction, insertInteraction, savePartialAnswer } from '../data-collection/interactions.js';
import { tempHome, type TempHome } from '../test/support.js';
import { recoverInterruptedAnswers, thisWorker } from './recover.js';

let home: TempHome;
let database: Database;

beforeAll(async () => {
  home = tempHome();
  database = await openDatabase({ url: null, dir: join(home.home, 'db') });
});

afterAll(async () => {
  await database.close();
  home.cleanup();
});

async function pending(worker: string | null, partial?: string): Promise<string> {
  const id = newInteractionId();
  await insertInteraction(database.db, {
    id,
    createdAt: new Date(),
    source: 'test',
    question: `question ${id}`,
    normalizedQuestion: `question ${id}`,
    history: [],
    project: null,
    cacheKey: `key-${id}`,
    status: 'pending',
    cached: false,
    model: 'test-model',
    modelFingerprint: 'test',
    adapters: [],
    worker,
  });
  if (partial) await savePartialAnswer(database.db, id, partial);
  return id;
}

/** A pid no process has (pids are below 2^22 on Linux). */
const deadPid = 4_194_304 + 17;

describe('recoverInterruptedAnswers', () => {
  it("embedded database: every pending row but this process's own becomes interrupted, its partial answer kept", async () => {
    const dead = await pending(`${hostname()}:${deadPid}:abc`, 'def reverse(s):\n    return s[');
    const legacy = await pending(null);
    const mine = await pending(thisWorker);
    expect(await recoverInterruptedAnswers({ db: database.db, kind: 'pglite' })).toBe(2);
    expect(await findInteraction(database.db, dead)).toMatchObject({
      status: 'interrupted',
      answer: 'def reverse(s):\n    return s[',
      error: { code: 'GENERATION_FAILED' },
    });
    expect((await findInteraction(database.db, dead))!.finishedAt).not.toBeNull();
    expect(await findInteraction(database.db, legacy)).toMatchObject({ status: 'interrupted', answer: null });
    expect(await findInteraction(database.db, mine)).toMatchObject({ status: 'pending' });
    // A partial write arriving after recovery does not revive the row.
    await savePartialAnswer(database.db, dead, 'more text');
    expect((await findInteraction(database.db, dead))!.answer).toBe('def reverse(s):\n    return s[');
  });

  it("shared server: only this machine's dead processes' rows (live ones, other machines' and unknown ones are left)", async () => {
    const dead = await pending(`${hostname()}:${deadPid}:abc`);
    const alive = await pending(`${hostname()}:${process.ppid}:abc`);
    const elsewhere = await pending(`another-host:${deadPid}:abc`);
    const unknown = await pending(null);
    expect(await recoverInterruptedAnswers({ db: database.db, kind: 'postgres' })).toBe(1);
    expect((await findInteraction(database.db, dead))!.status).toBe('interrupted');
    for (const id of [alive, elsewhere, unknown]) expect((await findInteraction(database.db, id))!.status).toBe('pending');
  });
});

describe('databaseFailure', () => {
  it('a value the database refuses is a bad request, named without the statement or its parameters', async () => {
    const secret = 'hunter2-secret-value';
    const caught = await insertInteraction(database.db, {
      id: newInteractionId(),
      createdAt: new Date(),
      source: 'test',
      question: `${secret}\u0000`,
      normalizedQuestion: 'x',
      history: [],
      project: null,
      cacheKey: 'k',
      status: 'pending',
      cached: false,
      model: 'm',
      modelFingerprint: 'f',
      adapters: [],
    }).then(
      () => null,
      (error: unknown) => error,
    );
    const failure = databaseFailure(database.location, caught);
    expect(failure.code).toBe('REQUEST_INVALID');
    expect(failure.status).toBe(400);
    expect(failure.message).toMatch(/invalid byte sequence for encoding "UTF8": 0x00/);
    const json = JSON.stringify(failure.toJSON());
    expect(json).not.toContain(secret);
    expect(json).not.toMatch(/insert into|params/i);
  });
});
