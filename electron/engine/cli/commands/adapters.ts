/** `npllm adapters list|promote|rollback`: the LoRA adapters npllm learned, their versions and channels. */
import type { Command } from 'commander';
import type { AdapterRecord } from '../../../../shared/contract.js';
import { integer, type CliOptions } from '../options.js';
import { printJson, table } from '../output.js';
import { withSession } from '../session.js';

type ChangeOptions = CliOptions & { reason?: string };

export function register(program: Command): void {
  const adapters = program.command('adapters').description('the LoRA adapters npllm learned: versions and channels (experimental, stable, archived)');
  adapters
    .command('list')
    .description('every registered adapter version, newest first')
    .argument('[name]', 'one adapter only')
    .option('--json', 'print a JSON array')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (name: string | undefined, options: CliOptions) => {
      process.exitCode = await runList(name, { ...program.opts<CliOptions>(), ...options });
    });
  for (const [action, description] of [
    ['promote', 'make a version stable (default: the newest experimental one); the stable one before it is archived'],
    ['rollback', 'archive the stable version and restore the given one (default: the one promoted before it)'],
  ] as const) {
    adapters
      .command(action)
      .description(description)
      .argument('<name>', 'the adapter')
      .argument('[version]', 'the version', integer('VERSION'))
      .option('--reason <text>', 'why, kept with the version')
      .option('--json', 'print one JSON object')
      .option('-c, --config <file>', 'YAML config file')
      .action(async (name: string, version: number | undefined, options: ChangeOptions) => {
        process.exitCode = await runChange(action, name, version, { ...program.opts<CliOptions>(), ...options });
      });
  }
}

function runList(name: string | undefined, options: CliOptions): Promise<number> {
  return withSession(options, {}, async (session) => {
    const { items } = await session.call('adapters/list', name === undefined ? {} : { name });
    if (options.json) printJson(items);
    else process.stdout.write(`${describeAdapters(items)}\n`);
  });
}

function runChange(action: 'promote' | 'rollback', name: string, version: number | undefined, options: ChangeOptions): Promise<number> {
  return withSession(options, {}, async (session) => {
    const request = { name, ...(version !== undefined ? { version } : {}), ...(options.reason ? { reason: options.reason } : {}) };
    const change = await session.call(action === 'promote' ? 'adapters/promote' : 'adapters/rollback', request);
    if (options.json) printJson(change);
    else process.stderr.write(`[npllm] ${name}: v${change.stable.version} is stable${change.archived ? `, v${change.archived.version} archived` : ''}\n`);
  });
}

function describeAdapters(items: readonly AdapterRecord[]): string {
  if (items.length === 0) return 'No adapters yet: they appear once npllm has learned from your feedback.';
  const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const rows = [
    ['name', 'version', 'channel', 'scope', 'rank', 'alpha', 'size', 'created', 'promoted', 'reason'],
    ...items.map((item) => [
      item.name,
      `v${item.version}`,
      item.channel,
      item.scope,
      String(item.rank),
      String(item.alpha),
      megabytes(item.bytes),
      item.createdAt.slice(0, 16).replace('T', ' '),
      item.promotedAt?.slice(0, 16).replace('T', ' ') ?? '–',
      item.reason ?? '',
    ]),
  ];
  return table(rows, () => false);
}
