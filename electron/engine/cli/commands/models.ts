/** `npllm models list|pull`: the catalogue of models npllm can download and answer with. */
import type { Command } from 'commander';
import { catalogueIds } from '../../model/catalogue.js';
import type { CliOptions } from '../options.js';
import { printJson, table } from '../output.js';
import { withSession } from '../session.js';

export function register(program: Command): void {
  const models = program.command('models').description('the models npllm can download and answer with');
  models
    .command('list')
    .description('the catalogue: id, name, size, licence, whether it is downloaded, which one is the default')
    .option('--json', 'print a JSON array')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: CliOptions) => {
      process.exitCode = await runList({ ...program.opts<CliOptions>(), ...options });
    });
  models
    .command('pull')
    .description('download a catalogue model (checksummed; an interrupted download resumes)')
    .argument('<id>', `the model: ${catalogueIds.join(', ')}`)
    .option('--json', 'print one JSON object with the result')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (id: string, options: CliOptions) => {
      process.exitCode = await runPull(id, { ...program.opts<CliOptions>(), ...options });
    });
}

function runList(options: CliOptions): Promise<number> {
  return withSession(options, {}, async (session) => {
    const { items } = await session.call('models/list', {});
    // The documented --json shape: exactly these keys, in this order.
    if (options.json)
      return printJson(
        items.map(({ id, name, sizeBytes, licence, installed, default: isDefault }) => ({ id, name, sizeBytes, licence, installed, default: isDefault })),
      );
    const rows = [
      ['id', 'name', 'size', 'licence', 'installed', 'default'],
      ...items.map((item) => [
        item.id,
        item.name,
        `${(item.sizeBytes / 1e9).toFixed(2)} GB`,
        item.licence,
        item.installed ? 'yes' : 'no',
        item.default ? '*' : '',
      ]),
    ];
    process.stdout.write(`${table(rows, (column) => column === 2)}\n`);
  });
}

function runPull(id: string, options: CliOptions): Promise<number> {
  return withSession(options, {}, async (session) => {
    const pulled = await session.call('models/pull', { id });
    if (options.json) printJson(pulled);
    else process.stdout.write(`${pulled.path}\n`);
  });
}
