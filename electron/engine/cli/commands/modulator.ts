/** `npllm modulator status|learn`: the network that decides which adapters speak and whether to retrieve. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ModulatorStatus } from '../../../../shared/contract.js';
import { integer, type CliOptions } from '../options.js';
import { printJson, table } from '../output.js';
import { withSession } from '../session.js';

type LearnOptions = CliOptions & { steps?: number };

export function register(program: Command): void {
  const modulator = program.command('modulator').description('the modulator: which adapters speak and how loud, and whether to retrieve, per question');
  modulator
    .command('status')
    .description('serving version, parameters, oracle gap, versions and recent decisions')
    .option('--json', 'print one JSON object as the last line')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: CliOptions) => {
      process.exitCode = await runStatus({ ...program.opts<CliOptions>(), ...options });
    });
  modulator
    .command('learn')
    .description('fit the modulator to the oracle mixes of held-out examples of the learned projects; promote it if it is better')
    .option('-p, --project <path>', 'only this learned project')
    .option('--steps <n>', 'training steps (modulator.oracleSteps)', integer('--steps'))
    .option('--json', 'print one JSON object with the result as the last line')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: LearnOptions) => {
      process.exitCode = await runLearn({ ...program.opts<CliOptions>(), ...options });
    });
}

function runStatus(options: CliOptions): Promise<number> {
  return withSession(options, {}, async (session) => {
    const status = await session.call('modulator/status', {});
    if (options.json) {
      const { version, channel, params, oracleGap, ...rest } = status;
      return printJson({ version, channel, params, oracleGap, ...rest });
    }
    process.stdout.write(`${describeStatus(status)}\n`);
  });
}

function runLearn(options: LearnOptions): Promise<number> {
  return withSession(options, {}, async (session) => {
    const result = await session.call('modulator/learn', {
      ...(options.project ? { project: resolve(options.project) } : {}),
      ...(options.steps ? { steps: options.steps } : {}),
    });
    if (options.json) return printJson(result);
    const gap = (value: number | null | undefined) => (value === null || value === undefined ? '–' : `${(value * 100).toFixed(2)} %`);
    process.stdout.write(
      `modulator v${result.version} (${result.channel}) on ${result.examples} held-out examples: ${result.reason}\noracle gap ${gap(result.before.oracleGap)} → ${gap(result.after.oracleGap)}\n`,
    );
  });
}

function describeStatus(status: ModulatorStatus): string {
  const gap = status.oracleGap === null ? 'not evaluated yet' : `${(status.oracleGap * 100).toFixed(2)} %`;
  const lines = [
    `modulator ${status.version === 0 ? 'v0 (the prior: rule-based gate, fixed scale)' : `v${status.version} (stable)`}, ${status.params.toLocaleString('en')} parameters, oracle gap ${gap}`,
    `scales ${status.levels.join(' / ')}, exploration ${Math.round(status.exploration * 100)} % of uncached answers${status.enabled ? '' : ', disabled'}`,
    `online: ${status.online.learned} rewarded decisions learned, ${status.online.pending} waiting${status.fallback ? `\nfalling back to the prior: ${status.fallback}` : ''}`,
  ];
  if (status.versions.length) {
    lines.push(
      '',
      table(
        [
          ['version', 'channel', 'origin', 'gap', 'reason'],
          ...status.versions.map((row) => [
            `v${row.version}`,
            row.channel,
            row.origin,
            row.metrics.oracleGap === null || row.metrics.oracleGap === undefined ? '–' : `${(row.metrics.oracleGap * 100).toFixed(2)} %`,
            row.reason ?? '',
          ]),
        ],
        () => false,
      ),
    );
  }
  if (status.recent.length) {
    lines.push('', 'recent decisions:');
    for (const decision of status.recent.slice(0, 10)) {
      const scales =
        Object.entries(decision.scales)
          .map(([name, scale]) => `${name} ${scale}`)
          .join(', ') || 'no adapter';
      lines.push(
        `  ${decision.createdAt.slice(0, 19).replace('T', ' ')}  v${decision.version}  ${scales}; ${decision.retrieve ? 'retrieve' : 'no retrieval'}${decision.explored ? ' (explored)' : ''}${decision.reward === null ? '' : `  reward ${decision.reward.toFixed(2)}`}  ${JSON.stringify(decision.question.slice(0, 60))}`,
      );
    }
  }
  return lines.join('\n');
}
