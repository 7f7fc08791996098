/** The replay reservoir on a real PGlite: bounded, weighted, deduplicated, per adapter; and forward transfer's candidate projects. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../shared/random.js';
import { openDatabase, type Database } from '../db/client.js';
import { tempHome, type TempHome } from '../test/support.js';
import { markProjectIndexed, upsertProject } from '../rag/queries.js';
import { indexedProjects, reservoirSize } from './queries.js';
import { addToReservoir, sampleReplay } from './replay.js';

let home: TempHome;
let database: Database;

const texts = (prefix: string, count: number, weight = 1) =>
  Array.from({ length: count }, (_, index) => ({ kind: 'code', text: `${prefix} ${index}`, tokens: 3, weight }));

beforeAll(async () => {
  home = tempHome();
  database = await openDatabase({ url: null, dir: join(home.home, 'db') });
});

afterAll(async () => {
  await database.close();
  home.cleanup();
});

describe('replay reservoir', () => {
  it('never grows past its capacity and keeps texts of every project it saw', async () => {
    const random = seededRandom(1);
    const first = await addToReservoir(database.db, { adapterName: 'odoo', project: '/a', candidates: texts('a', 300), capacity: 100, random });
    expect(first).toEqual({ added: 300, evicted: 200, size: 100 });
    const second = await addToReservoir(database.db, { adapterName: 'odoo', project: '/b', candidates: texts('b', 300), capacity: 100, random });
    expect(second.size).toBe(100);
    const rows = await sampleReplay(database.db, { adapterName: 'odoo', count: 1000, seed: 1 });
    const fromA = rows.filter((row) => row.project === '/a').length;
    // Equal weights: each project holds about half of the reservoir.
    expect(fromA).toBeGreaterThan(30);
    expect(fromA).toBeLessThan(70);
  });

  it('favours heavier texts, ignores repeats and empty texts, and keeps adapters apart', async () => {
    const random = seededRandom(2);
    await addToReservoir(database.db, {
      adapterName: 'django',
      project: '/c',
      candidates: [...texts('light', 200, 1), ...texts('heavy', 200, 8)],
      capacity: 50,
      random,
    });
    const kept = await sampleReplay(database.db, { adapterName: 'django', count: 50, seed: 3 });
    expect(kept.filter((row) => row.text.startsWith('heavy')).length).toBeGreaterThan(40);
    const again = await addToReservoir(database.db, {
      adapterName: 'django',
      project: '/c',
      candidates: [...kept.map((row) => ({ kind: row.kind, text: row.text, tokens: row.tokens })), { kind: 'code', text: '  ', tokens: 0 }],
      capacity: 50,
      random,
    });
    expect(again).toEqual({ added: 0, evicted: 0, size: 50 });
    expect(await reservoirSize(database.db, 'odoo')).toBe(100);
  });

  it('samples without the current project, in an order a seed repeats', async () => {
    const withoutB = await sampleReplay(database.db, { adapterName: 'odoo', excludeProject: '/b', count: 1000, seed: 7 });
    expect(withoutB.length).toBeGreaterThan(0);
    expect(withoutB.every((row) => row.project === '/a')).toBe(true);
    const [one, two, other] = await Promise.all([7, 7, 8].map((seed) => sampleReplay(database.db, { adapterName: 'odoo', count: 10, seed })));
    expect(one!.map((row) => row.id)).toEqual(two!.map((row) => row.id));
    expect(one!.map((row) => row.id)).not.toEqual(other!.map((row) => row.id));
  });
});

describe('indexedProjects', () => {
  it('lists indexed project roots, most recently indexed first, leaving out projects never indexed', async () => {
    await upsertProject(database.db, { id: 'p-old', root: '/work/old', embedderId: 'e' });
    await upsertProject(database.db, { id: 'p-new', root: '/work/new', embedderId: 'e' });
    await upsertProject(database.db, { id: 'p-never', root: '/work/never', embedderId: 'e' });
    await markProjectIndexed(database.db, 'p-old', '');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await markProjectIndexed(database.db, 'p-new', '');
    expect(await indexedProjects(database.db)).toEqual(['/work/new', '/work/old']);
  });
});
