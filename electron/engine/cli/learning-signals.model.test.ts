/**
 * The context, feedback, stats and data commands as users run them: real `npllm` processes, the
 * real model, a fresh data folder. A conversation's follow-up message and explicit events end in a
 * stored reward that `npllm stats --json` shows, and `npllm data export` writes the examples.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome, testEnv, type TempHome } from '../test/support.js';
import { lastJson, runNpllm, type CliRun } from '../test/cli.js';

function npllm(args: string[]): Promise<CliRun> {
  return runNpllm(args, testEnv(home.home));
}

let home: TempHome;
let odoo: string;

beforeAll(() => {
  home = tempHome();
  odoo = join(home.home, 'sale_extra');
  mkdirSync(join(odoo, 'models'), { recursive: true });
  mkdirSync(join(odoo, 'security'), { recursive: true });
  writeFileSync(join(odoo, '__manifest__.py'), "{\n    'name': 'Sale Extra',\n    'version': '17.0.1.0.0',\n    'depends': ['sale'],\n}\n");
  writeFileSync(join(odoo, '__init__.py'), 'from . import models\n');
  writeFileSync(
    join(odoo, 'models', 'sale_order.py'),
    'from odoo import fields, models\n\n\nclass SaleOrder(models.Model):\n    _inherit = "sale.order"\n    priority = fields.Integer()\n',
  );
  writeFileSync(join(odoo, 'security', 'ir.model.access.csv'), 'id,name,model_id:id,group_id:id,perm_read\n');
});

afterAll(() => home.cleanup());

describe('npllm context', () => {
  it('detects an Odoo module with its version and evidence, then stores the confirmed profile in versions', async () => {
    const detected = await npllm(['context', 'detect', odoo, '--json']);
    expect(detected.code, detected.stderr).toBe(0);
    const proposal = lastJson<{ stacks: { name: string; version: string | null; confidence: number; evidence: string[] }[] }>(detected);
    expect(proposal.stacks[0]).toMatchObject({ name: 'odoo', version: '17.0' });
    expect(proposal.stacks[0]!.confidence).toBeGreaterThan(0.9);
    expect(proposal.stacks[0]!.evidence.join(' ')).toContain('__manifest__.py');

    const confirmed = await npllm(['context', 'confirm', odoo, '--json']);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    const stored = lastJson<{ version: number; edited: boolean; stacks: { name: string; version: string | null; confidence: number }[] }>(confirmed);
    expect(stored).toMatchObject({ version: 1, edited: false });
    expect(stored.stacks.map((stack) => stack.name)).toEqual(proposal.stacks.map((stack) => stack.name));
    expect(stored.stacks[0]).toMatchObject({ name: 'odoo', version: '17.0', confidence: 1 });
    // Commands that never generate leave the model alone: no download, no load.
    expect(confirmed.stderr).not.toMatch(/SmolLM2/);

    const edited = await npllm(['context', 'confirm', odoo, '--stack', 'odoo@16.0', '--stack', 'python', '--json']);
    expect(edited.code, edited.stderr).toBe(0);
    const profile = lastJson<{ version: number; edited: boolean; stacks: { name: string; version: string | null }[]; contextVector: number[] }>(edited);
    expect(profile).toMatchObject({ version: 2, edited: true });
    expect(profile.stacks.map((stack) => `${stack.name}@${stack.version ?? ''}`)).toEqual(['odoo@16.0', expect.stringMatching(/^python@/) as unknown]);
    expect(profile.contextVector.length).toBeGreaterThan(20);
  });

  it('refuses an unknown stack and a folder that does not exist, with a fix', async () => {
    const unknown = await npllm(['context', 'confirm', odoo, '--stack', 'cobol']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown stack "cobol"[\s\S]*fix: Use one of: odoo/);
    const missing = await npllm(['context', 'detect', join(home.home, 'nope'), '--json']);
    expect(missing.code).not.toBe(0);
    expect(lastJson<{ error: { code: string } }>(missing).error.code).toBe('NOT_FOUND');
  });
});

describe('npllm feedback, stats and data export', () => {
  it('turns a follow-up message and feedback events into stored rewards, metrics and training data', async () => {
    const first = await npllm(['--query', 'How do I add an integer field to an Odoo model?', '--project', odoo, '--json', '--max-tokens', '24']);
    expect(first.code, first.stderr).toBe(0);
    const firstId = lastJson<{ interactionId: string }>(first).interactionId;

    // The next message of the conversation reads as frustrated: the first answer's reward drops.
    const second = await npllm(['--query', 'não funciona, de novo o mesmo erro!!', '--project', odoo, '--json', '--max-tokens', '24']);
    expect(second.code, second.stderr).toBe(0);
    const secondId = lastJson<{ interactionId: string }>(second).interactionId;

    const inserted = await npllm(['feedback', secondId, 'inserted', '--event-id', 'cli-test-insert-1', '--json']);
    expect(inserted.code, inserted.stderr).toBe(0);
    expect(lastJson(inserted)).toMatchObject({ eventId: 'cli-test-insert-1', duplicate: false, reward: { interactionId: secondId, events: 1 } });
    const retried = await npllm(['feedback', secondId, 'inserted', '--event-id', 'cli-test-insert-1', '--json']);
    expect(lastJson(retried)).toMatchObject({ duplicate: true });
    const dwell = await npllm(['feedback', secondId, 'dwell', '--value', '45']);
    expect(dwell.code, dwell.stderr).toBe(0);
    expect(dwell.stderr).toMatch(/recorded dwell .* reward 0\.\d+ from 2 event/);

    const stats = await npllm(['stats', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    const metrics = lastJson<{ overall: Record<string, unknown>; projects: { project: string }[]; recentRewards: { interactionId: string; reward: number }[] }>(
      stats,
    );
    const rewardOf = (id: string) => metrics.recentRewards.find((item) => item.interactionId === id)?.reward;
    expect(rewardOf(firstId)).toBeLessThan(0);
    expect(rewardOf(secondId)).toBeGreaterThan(0.5);
    expect(metrics.overall).toMatchObject({ interactions: 2, acceptanceRate: 0.5, frustrationRate: 1, cacheHitRate: 0 });
    expect(metrics.projects.map((row) => row.project)).toEqual([expect.stringContaining('sale_extra') as unknown]);
    const table = await npllm(['stats']);
    expect(table.stdout).toMatch(/accepted[\s\S]*sale_extra/);

    const badEvent = await npllm(['feedback', secondId, 'thumbs-up']);
    expect(badEvent.code).toBe(2);
    expect(badEvent.stderr).toMatch(/type/);
    const unknownInteraction = await npllm(['feedback', '0190a0a0-0000-7000-8000-000000000000', 'copied']);
    expect(unknownInteraction.stderr).toMatch(/No interaction with id/);

    await npllm(['index', odoo]);
    const out = join(home.home, 'export.jsonl');
    const exported = await npllm(['data', 'export', '--project', odoo, '--out', out, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const summary = lastJson<{ examples: number; byKind: Record<string, number> }>(exported);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; interactionId?: string });
    expect(lines).toHaveLength(summary.examples);
    expect(summary.byKind['accepted']).toBe(1);
    expect(lines.find((line) => line.kind === 'accepted')?.interactionId).toBe(secondId);
    // The frustrated first question gets the well-received answer of its follow-up as a better target.
    expect(lines.find((line) => line.kind === 'correction')?.interactionId).toBe(firstId);
    expect(summary.byKind['code']).toBeGreaterThan(0);
  });
});
