/** `npllm stats [--learning]`: behaviour metrics, or what the adapters learned and forgot. */
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import type { AdapterLearningStats, BehaviourMetrics, BehaviourStats, LearningRunRecord, LearningStats } from '../../../../shared/contract.js';
import { formatDuration } from '../../../../shared/format.js';
import { shortProjectNames } from '../../../../shared/learning-metrics.js';
import { defaultLearningRuns } from '../../metrics/learning.js';
import { integer, type CliOptions } from '../options.js';
import { printJson, table } from '../output.js';
import { withSession } from '../session.js';

type StatsOptions = CliOptions & { days?: number; learning?: boolean; adapter?: string; runs?: number };

export function register(program: Command): void {
  program
    .command('stats')
    .description(
      'behaviour metrics: acceptance, regenerations, frustration, reward, cache hits, retrieval, latency; with --learning, what the adapters learned and forgot',
    )
    .option('-p, --project <path>', 'one project only')
    .option('--days <n>', 'days of history (default 30)', integer('--days', 1, 3650))
    .option(
      '--learning',
      'learning metrics instead: held-out NLL of every adapter version on every project, gain over the base model, backward transfer, latest runs',
    )
    .option('--adapter <name>', 'with --learning: one adapter only')
    .option('--runs <n>', `with --learning: latest runs listed per adapter (default ${defaultLearningRuns})`, integer('--runs', 1))
    .option('--json', 'print one JSON object')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: StatsOptions) => {
      process.exitCode = await runStats({ ...program.opts<CliOptions>(), ...options });
    });
}

function runStats(options: StatsOptions): Promise<number> {
  return withSession(options, {}, async (session) => {
    if (options.learning) {
      const stats = await session.call('stats/learning', {
        ...(options.adapter !== undefined ? { adapter: options.adapter } : {}),
        ...(options.runs !== undefined ? { runs: options.runs } : {}),
      });
      if (options.json) printJson(stats);
      else process.stdout.write(`${describeLearningStats(stats)}\n`);
      return;
    }
    const stats = await session.call('stats/behaviour', {
      ...(options.project !== undefined ? { project: resolve(options.project) } : {}),
      ...(options.days !== undefined ? { days: options.days } : {}),
    });
    if (options.json) printJson(stats);
    else process.stdout.write(`${describeStats(stats)}\n`);
  });
}

function describeStats(stats: BehaviourStats): string {
  const percent = (value: number | null) => (value === null ? '–' : `${Math.round(value * 100)}%`);
  const number = (value: number | null, digits = 2) => (value === null ? '–' : value.toFixed(digits));
  const row = (label: string, metrics: BehaviourMetrics) => [
    label,
    String(metrics.interactions),
    percent(metrics.acceptanceRate),
    percent(metrics.regenerateRate),
    percent(metrics.frustrationRate),
    number(metrics.meanReward),
    percent(metrics.cacheHitRate),
    percent(metrics.retrievalRate),
    number(metrics.latencyMs.ttftP50, 0),
    number(metrics.latencyMs.totalP95, 0),
  ];
  const rows = [
    ['', 'asked', 'accepted', 'regenerated', 'frustrated', 'reward', 'cache hits', 'retrieval', 'TTFT p50 ms', 'total p95 ms'],
    row('all', stats.overall),
    ...stats.projects.map((project) => row(project.project ?? '(no project)', project)),
  ];
  const recent = stats.recentRewards
    .slice(0, 5)
    .map((item) => `  ${item.reward >= 0 ? '+' : ''}${item.reward.toFixed(2)}  ${item.question.slice(0, 60).replace(/\s+/g, ' ')}  (${item.interactionId})`);
  return [table(rows, (column) => column > 0), ...(recent.length ? ['', 'latest rewards:', ...recent] : [])].join('\n');
}

function describeLearningStats(stats: LearningStats): string {
  if (stats.adapters.length === 0) return 'No learning yet: adapters appear once npllm has consolidated a project into one.';
  return stats.adapters.map(describeAdapterLearning).join('\n\n');
}

function describeAdapterLearning(stats: AdapterLearningStats): string {
  const names = shortProjectNames(stats.projects);
  const label = (row: AdapterLearningStats['versions'][number]) => [
    `v${row.version}`,
    row.channel,
    row.project === null ? '' : (names.get(row.project) ?? row.project),
  ];
  const percent = (value: number | null) => (value === null ? '–' : `${value > 0 ? '+' : ''}${(value * 100).toFixed(1)}%`);
  const header = ['version', 'channel', 'learned', ...stats.projects.map((project) => names.get(project)!)];
  const nll = table(
    [header, ...stats.versions.map((row, index) => [...label(row), ...stats.nll[index]!.map((value) => (value === null ? '–' : value.toFixed(3)))])],
    (column) => column >= 3,
  );
  const gain = table(
    [header, ...stats.versions.slice(1).map((row, index) => [...label(row), ...stats.gain[index + 1]!.map(percent)])],
    (column) => column >= 3,
  );
  const bwt =
    stats.bwtVersion === null
      ? 'no version learned a project yet'
      : `${stats.bwt === null ? '– (needs two projects learned and measured)' : percent(stats.bwt)} at v${stats.bwtVersion} (mean change of gain on earlier projects since they were learned; below 0 is forgetting)`;
  const legend = stats.projects.filter((project) => names.get(project) !== project).map((project) => `${names.get(project)} = ${project}`);
  return [
    stats.adapter,
    ...(stats.projects.length === 0
      ? ['  no held-out evaluations yet']
      : [...(legend.length ? [`projects: ${legend.join(' · ')}`] : []), '', 'held-out NLL (lower is better):', nll, '', 'gain over the base model:', gain]),
    '',
    `BWT: ${bwt}`,
    '',
    ...(stats.runs.length === 0 ? ['no training runs yet'] : ['latest runs:', describeRuns(stats.runs, names)]),
  ].join('\n');
}

function describeRuns(runs: readonly LearningRunRecord[], names: ReadonlyMap<string, string>): string {
  const duration = (run: LearningRunRecord) => {
    const ms = run.stats?.['durationMs'] ?? (run.finishedAt === null ? null : Date.parse(run.finishedAt) - Date.parse(run.startedAt));
    return ms === null ? '–' : formatDuration(ms);
  };
  const speed = (run: LearningRunRecord) => (run.stats?.['tokensPerSecond'] === undefined ? '–' : run.stats['tokensPerSecond'].toFixed(1));
  const promoted = (run: LearningRunRecord) => (run.promoted === null ? '–' : run.promoted ? 'yes' : 'no');
  const rows = [
    ['started', 'status', 'project', 'version', 'promoted', 'duration', 'tokens/s', 'reason'],
    ...runs.map((run) => [
      run.startedAt.slice(0, 16).replace('T', ' '),
      run.status,
      names.get(run.project) ?? basename(run.project),
      run.version === null ? '–' : `v${run.version}`,
      promoted(run),
      duration(run),
      speed(run),
      run.reason ?? run.error?.message ?? '',
    ]),
  ];
  return table(rows, (column) => column === 5 || column === 6);
}
