/**
 * Confirming a project's context on a real PGlite: the proposal or the user's edit is stored as
 * the next profile version, with its context vector.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextVector, contextVectorLength } from '../../../shared/context-vector.js';
import { openDatabase, type Database } from '../db/client.js';
import { rejection, tempHome, type TempHome } from '../test/support.js';
import { ContextService } from './service.js';

let home: TempHome;
let database: Database;
let context: ContextService;
let nextApp: string;

beforeAll(async () => {
  home = tempHome();
  database = await openDatabase({ url: null, dir: join(home.home, 'db') });
  context = new ContextService(database.db);
  nextApp = join(home.home, 'shop');
  mkdirSync(join(nextApp, 'app'), { recursive: true });
  writeFileSync(
    join(nextApp, 'package.json'),
    JSON.stringify({ dependencies: { next: '^14.2.3', react: '^18.3.1' }, devDependencies: { typescript: '^5.4.0' } }),
  );
  writeFileSync(join(nextApp, 'next.config.js'), 'module.exports = {};\n');
  writeFileSync(join(nextApp, 'app', 'page.tsx'), 'export default function Page() { return null; }\n');
});

afterAll(async () => {
  await database.close();
  home.cleanup();
});

describe('ContextService', () => {
  it('has no profile before the user confirms one', async () => {
    expect(await context.get(nextApp)).toBeNull();
  });

  it('stores the proposal as version 1, certain, with the vector of its stacks', async () => {
    const proposal = await context.detect(nextApp);
    expect(proposal.stacks[0]).toMatchObject({ name: 'nextjs', version: '14.2' });
    const profile = await context.confirm(nextApp);
    expect(profile).toMatchObject({ root: proposal.root, version: 1, edited: false });
    expect(profile.stacks.map((stack) => stack.name)).toEqual(proposal.stacks.map((stack) => stack.name));
    expect(profile.stacks.every((stack) => stack.confidence === 1 && stack.evidence.includes('confirmed by the user'))).toBe(true);
    expect(profile.contextVector).toHaveLength(contextVectorLength);
    Array.from(contextVector(profile.stacks)).forEach((value, index) => expect(profile.contextVector[index]).toBeCloseTo(value, 4));
    expect(await context.get(nextApp)).toEqual(profile);
  });

  it("stores the user's edit as the next version and keeps the proposal beside it", async () => {
    const profile = await context.confirm(nextApp, [{ name: 'nextjs', version: '15.0' }, { name: 'electron' }, { name: 'nextjs' }]);
    expect(profile).toMatchObject({ version: 2, edited: true });
    expect(profile.stacks).toEqual([
      expect.objectContaining({ name: 'nextjs', version: '15.0', confidence: 1 }),
      { name: 'electron', version: null, confidence: 1, evidence: ['added by the user'] },
    ]);
    expect((await context.get(nextApp))?.version).toBe(2);
  });

  it('gives concurrent confirmations distinct versions', async () => {
    const versions = await Promise.all([context.confirm(nextApp), context.confirm(nextApp), context.confirm(nextApp)]);
    expect(versions.map((profile) => profile.version).sort()).toEqual([3, 4, 5]);
  });

  it('names one folder one way, whatever path reaches it', async () => {
    const link = join(home.home, 'shop-link');
    symlinkSync(nextApp, link);
    expect((await context.get(link))?.root).toBe((await context.get(nextApp))?.root);
  });

  it('refuses an unknown stack, and an empty folder confirmed without stacks', async () => {
    expect((await rejection(context.confirm(nextApp, [{ name: 'cobol' }]))).message).toMatch(/Unknown stack "cobol"/);
    const empty = join(home.home, 'empty');
    mkdirSync(empty);
    const error = await rejection(context.confirm(empty));
    expect(error.code).toBe('REQUEST_INVALID');
    expect(error.fix).toMatch(/--stack NAME/);
    expect((await context.confirm(empty, [{ name: 'python', version: '3.12' }])).stacks[0]).toMatchObject({ name: 'python', version: '3.12' });
  });
});
