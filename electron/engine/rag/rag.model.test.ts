/**
 * Retrieval end to end on a small real-looking project: the real walker, tree-sitter parsers,
 * MiniLM embedder, PGlite store and SmolLM2 answering with the retrieved code.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectRows } from '../db/sql.js';
import { Engine } from '../engine.js';
import { rejection, tempHome, testConfig, type TempHome } from '../test/support.js';
import { alphabets, fakeToken } from '../test/secrets.js';

let home: TempHome;
let engine: Engine;
let project: string;
const token = `ghp_${fakeToken(alphabets.alphanumeric, 36)}`;

function write(relativePath: string, content: string): void {
  const path = join(project, relativePath);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
}

beforeAll(async () => {
  home = tempHome();
  project = join(home.home, 'shop');
  write('__manifest__.py', "{'name': 'Shop', 'version': '17.0.1.0.0', 'depends': ['sale']}\n");
  write(
    'models/refund.py',
    [
      'from odoo import api, fields, models',
      '',
      '',
      'class ShopRefund(models.Model):',
      "    _name = 'shop.refund'",
      '',
      "    @api.depends('line_ids.amount')",
      '    def _compute_refund_amount(self):',
      '        """Refund amount: the sum of returned lines minus the restocking fee."""',
      '        for refund in self:',
      "            refund.amount = sum(refund.line_ids.mapped('amount')) - refund.restocking_fee",
      '',
      '    def action_send_refund_email(self):',
      '        """Email the customer that the refund was issued."""',
      "        template = self.env.ref('shop.mail_template_refund')",
      '        template.send_mail(self.id)',
      '',
    ].join('\n'),
  );
  write(
    'static/src/cart.js',
    [
      '/** Total of the cart in cents, taxes included. */',
      'export function cartTotal(items, taxRate) {',
      '  return items.reduce((sum, item) => sum + item.price * item.quantity, 0) * (1 + taxRate);',
      '}',
      '',
    ].join('\n'),
  );
  write('README.md', '# Shop\n\nAn Odoo module for refunds.\n\n## Setup\n\nInstall it in Odoo 17.\n');
  write('.env', `GITHUB_TOKEN=${token}\n`);
  write('config/settings.py', `GITHUB_TOKEN = "${token}"\n`);
  write('node_modules/left-pad/index.js', 'module.exports = function leftPad() {}\n');
  writeFileSync(join(project, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));
  engine = await Engine.open(testConfig(home.home, { model: { maxTokens: 24 } }));
});

afterAll(async () => {
  await engine.dispose();
  home.cleanup();
});

describe('indexing a project', () => {
  it('indexes functions and classes, leaves out dependencies, binaries and secrets', async () => {
    const result = await engine.rag.index(project);
    expect(result).toMatchObject({ files: 4, changedFiles: 4, removedFiles: 0 });
    expect(result.secretsSkipped).toBe(2);
    expect(result.chunks).toBeGreaterThanOrEqual(5);
    const symbols = await selectRows<{ symbol: string }>(engine.database.db, sql`select symbol from chunks where symbol is not null order by symbol`);
    expect(symbols.map((row) => row.symbol)).toEqual(
      expect.arrayContaining(['ShopRefund._compute_refund_amount', 'ShopRefund.action_send_refund_email', 'cartTotal']),
    );
    const leaked = await selectRows<{ count: number }>(
      engine.database.db,
      sql`select count(*)::int as count from chunks where content like ${`%${token.slice(4, 20)}%`}`,
    );
    expect(leaked[0]?.count).toBe(0);
  });

  it('re-indexes nothing when nothing changed, only what changed, and forgets deleted files', async () => {
    const again = await engine.rag.index(project);
    expect(again).toMatchObject({ changedFiles: 0, unchangedFiles: 4, embeddedChunks: 0, removedFiles: 0 });
    write('static/src/cart.js', 'export function cartTotal(items) {\n  return items.length;\n}\n\nexport const emptyCart = () => [];\n');
    rmSync(join(project, 'README.md'));
    const changed = await engine.rag.index(project);
    expect(changed).toMatchObject({ changedFiles: 1, removedFiles: 1, files: 3 });
    expect((await engine.rag.status(project)).files).toBe(3);
  });

  it('can be cancelled and resumed without duplicates', async () => {
    for (let index = 0; index < 150; index++)
      write(`lib/module_${index}.py`, `def helper_${index}(value):\n    """Helper ${index}."""\n    return value * ${index}\n`);
    const controller = new AbortController();
    const error = await rejection(
      engine.rag.index(project, {
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.label.startsWith('Indexing:') && (progress.fraction ?? 0) > 0) controller.abort();
        },
      }),
    );
    expect(error.code).toBe('CANCELLED');
    const resumed = await engine.rag.index(project);
    expect(resumed.files).toBe(153);
    expect(resumed.changedFiles).toBeLessThan(150);
    const duplicates = await selectRows<{ count: number }>(
      engine.database.db,
      sql`select count(*)::int as count from (select relative_path, start_line from chunks group by 1, 2 having count(*) > 1) d`,
    );
    expect(duplicates[0]?.count).toBe(0);
  });

  it('reports a database that goes away mid-index, and keeps what was committed', async () => {
    const other = await Engine.open(testConfig(join(home.home, 'second-home'), { rag: { batchChunks: 8 } }));
    let closing: Promise<void> | undefined;
    const error = await rejection(
      other.rag.index(project, {
        onProgress: (progress) => {
          if (progress.label.startsWith('Indexing:') && (progress.fraction ?? 0) > 0) closing ??= other.database.close();
        },
      }),
    );
    await closing;
    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    await other.dispose();
  });

  it('names a folder that does not exist', async () => {
    expect((await rejection(engine.rag.index(join(home.home, 'nowhere')))).code).toBe('NOT_FOUND');
  });
});

describe('asking about the project', () => {
  it('retrieves and cites the function a question names, and records why', async () => {
    const answer = await engine.ask({ question: 'Why does `_compute_refund_amount` subtract the fee?', project });
    expect(answer.retrieval.used).toBe(true);
    expect(answer.retrieval.sources[0]).toMatchObject({ path: 'models/refund.py', symbol: 'ShopRefund._compute_refund_amount' });
    expect(answer.retrieval.reasons.join(' ')).toContain('_compute_refund_amount');
    const [record] = (await engine.api.call('interactions/list', { limit: 1 }, { caller: 'http' })).items;
    expect(record?.retrieval?.used).toBe(true);
  });

  it('retrieves for "where is X handled?" in the project', async () => {
    const answer = await engine.ask({ question: 'Where is the refund email sent to the customer?', project });
    expect(answer.retrieval.used).toBe(true);
    expect(answer.retrieval.sources.map((source) => source.symbol)).toContain('ShopRefund.action_send_refund_email');
  });

  it('does not retrieve for a general question', async () => {
    const answer = await engine.ask({ question: 'What is a Python list comprehension?', project });
    expect(answer.retrieval.used).toBe(false);
    expect(answer.retrieval.sources).toEqual([]);
  });

  it('does not retrieve without a project, or for one never indexed', async () => {
    expect((await engine.ask({ question: 'What is a closure?' })).retrieval).toEqual({ used: false, reasons: ['no project is set'], sources: [] });
    mkdirSync(join(home.home, 'fresh'));
    expect((await engine.ask({ question: 'Where is main?', project: join(home.home, 'fresh') })).retrieval.reasons[0]).toContain('not indexed');
  });

  it('refuses projects outside the allowed roots over the API', async () => {
    const error = await rejection(engine.api.call('rag/index', { path: '/etc' }, { caller: 'http' }));
    expect(error.code).toBe('REQUEST_INVALID');
    expect(error.fix).toContain('rag.allowedRoots');
  });
});
