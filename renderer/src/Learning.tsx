import { useEffect, useMemo, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ChannelActions, LearnNow } from './LearningActions.js';
import type { Transport } from './transport.js';
import { useStore } from 'zustand';
import type { AdapterLearningStats, LearnerStatus, LearningRunRecord } from '../../shared/contract.js';
import type { SerializedError } from '../../shared/errors.js';
import { shortProjectNames } from '../../shared/learning-metrics.js';
import { ErrorBox } from './ErrorBox.js';
import { formatNll, formatPercent, learnerStateKey, lossChart, nllShade, runDurationMs, runOutcomeKey } from './learning-format.js';
import type { LearningStore } from './learning-store.js';
import { ModulatorPanel } from './ModulatorPanel.js';
import { formatDateTime, formatDuration, formatFixed } from './locale-format.js';
import { errorText } from './ui-error.js';

/** Runs whose loss curves the chart draws: more lines than this turn into noise. */
const chartedRuns = 5;

/** What the adapters learned and forgot, and what the background learner is doing. */
export function LearningView({ store, transport, project }: { store: LearningStore; transport?: Transport | undefined; project?: string | null | undefined }) {
  const { t } = useTranslation();
  const stats = useStore(store, (state) => state.stats);
  const statsError = useStore(store, (state) => state.statsError);
  const loading = useStore(store, (state) => state.statsLoading);
  const { open, refreshStats, refreshLearner } = store.getState();
  // After a run the person started, the learner strip shows its end at once, not at the next poll.
  const afterRun = () => {
    void refreshStats();
    void refreshLearner();
  };

  useEffect(() => open(), [open]);

  return (
    <section className="learning" data-testid="learning-view" aria-busy={loading}>
      <div className="learning-toolbar">
        <LearnerPanel store={store} />
        {transport && <LearnNow transport={transport} project={project ?? null} onDone={afterRun} />}
        <button type="button" className="ghost small" data-testid="learning-refresh" onClick={() => void refreshStats()} disabled={loading}>
          {t('learning.refresh')}
        </button>
      </div>
      {statsError && <ErrorBox error={statsError} testId="learning-error" />}
      {!stats && !statsError && (
        <p className="placeholder" data-testid="learning-loading">
          {t('learning.loading')}
        </p>
      )}
      {stats?.adapters.length === 0 && (
        <p className="placeholder" data-testid="learning-empty">
          {t('learning.empty')}
        </p>
      )}
      <ModulatorPanel load={store.getState().modulatorStatus} />
      {stats?.adapters.map((adapter) => (
        <AdapterPanel
          key={adapter.adapter}
          stats={adapter}
          actions={transport ? <ChannelActions transport={transport} adapter={adapter.adapter} onDone={() => void refreshStats()} /> : null}
        />
      ))}
    </section>
  );
}

function LearnerPanel({ store }: { store: LearningStore }) {
  const { t } = useTranslation();
  const learner = useStore(store, (state) => state.learner);
  const error = useStore(store, (state) => state.learnerError);
  if (!learner) {
    if (!error)
      return (
        <div className="learner" data-testid="learner-status" data-state="unknown">
          {t('learning.asking')}
        </div>
      );
    const { message, fix } = errorText(error, t);
    return (
      <div className="learner bad" data-testid="learner-status" data-state="unavailable" title={fix}>
        <span data-testid="learner-status-error">{t('learning.unavailable', { message })}</span>
      </div>
    );
  }
  return <LearnerDetails learner={learner} stale={error} />;
}

function LearnerDetails({ learner, stale }: { learner: LearnerStatus; stale: SerializedError | null }) {
  const { t } = useTranslation();
  const projects = [...(learner.current ? [learner.current.project] : []), ...learner.queue, ...(learner.last ? Object.keys(learner.last.nllAfter) : [])];
  const names = shortProjectNames(projects);
  const name = (project: string) => names.get(project) ?? project;
  const progress = learner.current?.progress;
  const last = learner.last;
  const staleText = stale ? errorText(stale, t) : null;
  return (
    <div className={`learner ${learner.state}`} data-testid="learner-status" data-state={learner.state}>
      <span className="dot" />
      <span data-testid="learner-state" title={learner.current?.project}>
        {t(`learning.state.${learnerStateKey(learner)}`, {
          project: learner.current ? name(learner.current.project) : '',
          adapter: learner.current?.adapter ?? '',
        })}
      </span>
      {progress && !progress.done && (
        <span className="learner-progress" data-testid="learner-progress">
          {progress.label}
          {progress.fraction === null ? <progress /> : <progress max={1} value={progress.fraction} />}
        </span>
      )}
      {learner.queue.length > 0 && (
        <span data-testid="learner-queue" title={learner.queue.join('\n')}>
          {t('learning.queued', { projects: learner.queue.map(name).join(', ') })}
        </span>
      )}
      {last && (
        <span data-testid="learner-last" data-promoted={last.promoted}>
          {t('learning.last', {
            adapter: `${last.adapter}${last.version === null ? '' : ` v${last.version}`}`,
            outcome: t(
              last.promoted ? 'learning.outcome.promoted' : last.version === null ? 'learning.outcome.notRegistered' : 'learning.outcome.keptExperimental',
            ),
          })}
          {last.reason ? ` (${last.reason})` : ''}
        </span>
      )}
      {learner.lastError && (
        <span className="learner-error" data-testid="learner-last-error" title={learner.lastError.fix}>
          {t('learning.lastFailure', { message: learner.lastError.message })}
        </span>
      )}
      {staleText && (
        <span className="learner-error" data-testid="learner-status-error" title={staleText.fix}>
          {t('learning.stale', { message: staleText.message })}
        </span>
      )}
    </div>
  );
}

function AdapterPanel({ stats, actions }: { stats: AdapterLearningStats; actions: ReactNode }) {
  const { t, i18n } = useTranslation();
  const bwt = formatPercent(stats.bwt, i18n.language);
  const names = useMemo(() => shortProjectNames([...stats.projects, ...stats.runs.map((run) => run.project)]), [stats]);
  const name = (project: string) => names.get(project) ?? project;
  return (
    <article className="learning-adapter" data-testid="learning-adapter" data-adapter={stats.adapter}>
      <header>
        <h2>{stats.adapter}</h2>
        {actions}
        <span
          className={`bwt ${stats.bwt === null ? '' : stats.bwt < 0 ? 'bad' : 'ok'}`}
          data-testid="learning-bwt"
          data-value={stats.bwt ?? ''}
          title={t('learning.bwtTitle')}
        >
          {stats.bwtVersion === null ? t('learning.bwt', { value: bwt }) : t('learning.bwtAt', { value: bwt, version: stats.bwtVersion })}
        </span>
      </header>
      {stats.projects.length === 0 ? (
        <p className="muted" data-testid="forgetting-matrix-empty">
          {t('learning.noEvaluations')}
        </p>
      ) : (
        <ForgettingMatrix stats={stats} name={name} />
      )}
      <LossChart runs={stats.runs} name={name} />
      <RunList runs={stats.runs} name={name} />
    </article>
  );
}

/** Held-out NLL of every version on every project, coloured per column (lower is greener), with the gain over the base. */
function ForgettingMatrix({ stats, name }: { stats: AdapterLearningStats; name: (project: string) => string }) {
  const { t, i18n } = useTranslation();
  const columns = stats.projects.map((_, column) => stats.nll.map((row) => row[column] ?? null));
  return (
    <div className="table-scroll">
      <table className="forgetting-matrix" data-testid="forgetting-matrix">
        <caption>{t('learning.matrixCaption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('learning.col.version')}</th>
            <th scope="col">{t('learning.col.learned')}</th>
            {stats.projects.map((project) => (
              <th scope="col" key={project} title={project} data-testid="matrix-project">
                {name(project)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {stats.versions.map((row, rowIndex) => (
            <tr key={row.version} data-testid="matrix-row" data-version={row.version} data-channel={row.channel}>
              <th scope="row">
                v{row.version} <span className={`channel ${row.channel}`}>{t(`learning.channel.${row.channel}`)}</span>
              </th>
              <td className="learned" title={row.project ?? undefined}>
                {row.project === null ? '' : name(row.project)}
              </td>
              {stats.projects.map((project, column) => {
                const nll = stats.nll[rowIndex]?.[column] ?? null;
                const gain = stats.gain[rowIndex]?.[column] ?? null;
                const shade = nllShade(nll, columns[column]!);
                return (
                  <td
                    key={project}
                    className={`cell${row.project === project ? ' learned-here' : ''}`}
                    data-testid="matrix-cell"
                    data-version={row.version}
                    data-project={project}
                    data-nll={nll ?? ''}
                    style={shade ? { background: shade } : undefined}
                  >
                    <span className="nll">{formatNll(nll, i18n.language)}</span>
                    {row.version > 0 && (
                      <span className="gain" data-testid="matrix-gain">
                        {formatPercent(gain, i18n.language)}
                      </span>
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LossChart({ runs, name }: { runs: readonly LearningRunRecord[]; name: (project: string) => string }) {
  const { t, i18n } = useTranslation();
  const chart = lossChart(runs, {
    width: 480,
    height: 160,
    margin: 14,
    count: chartedRuns,
    label: (run) => `${run.version === null ? t(`learning.outcome.${runOutcomeKey(run)}`) : `v${run.version}`} ${name(run.project)}`,
  });
  if (chart.lines.length === 0) return null;
  return (
    <figure className="loss-chart">
      <svg viewBox={`0 0 ${chart.width} ${chart.height}`} role="img" aria-label={t('learning.lossChart')} data-testid="loss-chart">
        <rect x={0} y={0} width={chart.width} height={chart.height} className="plot" />
        <text x={4} y={12} className="axis">
          {formatFixed(chart.top, i18n.language, 2)}
        </text>
        <text x={4} y={chart.height - 4} className="axis">
          {formatFixed(chart.bottom, i18n.language, 2)}
        </text>
        <text x={chart.width - 4} y={chart.height - 4} className="axis" textAnchor="end">
          {t('learning.steps', { count: chart.steps })}
        </text>
        {chart.lines.map((line) => (
          <polyline key={line.runId} points={line.points} stroke={line.color} fill="none" strokeWidth={2} data-testid="loss-line" data-run-id={line.runId}>
            <title>{line.label}</title>
          </polyline>
        ))}
      </svg>
      <figcaption>
        {t('learning.lossLegend')}{' '}
        {chart.lines.map((line) => (
          <span key={line.runId} className="legend">
            <span className="swatch" style={{ background: line.color }} /> {line.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

function RunList({ runs, name }: { runs: readonly LearningRunRecord[]; name: (project: string) => string }) {
  const { t, i18n } = useTranslation();
  if (runs.length === 0) return <p className="muted">{t('learning.noRuns')}</p>;
  return (
    <div className="table-scroll">
      <table className="runs" data-testid="learning-runs">
        <caption>{t('learning.latestRuns')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('learning.col.started')}</th>
            <th scope="col">{t('learning.col.project')}</th>
            <th scope="col">{t('learning.col.version')}</th>
            <th scope="col">{t('learning.col.outcome')}</th>
            <th scope="col">{t('learning.col.duration')}</th>
            <th scope="col">{t('learning.col.speed')}</th>
            <th scope="col">{t('learning.col.reason')}</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => {
            const speed = run.stats?.['tokensPerSecond'];
            return (
              <tr key={run.id} data-testid="learning-run" data-run-id={run.id} data-status={run.status} data-promoted={run.promoted ?? ''}>
                <td>{formatDateTime(run.startedAt, i18n.language)}</td>
                <td title={run.project}>{name(run.project)}</td>
                <td>{run.version === null ? '–' : `v${run.version}`}</td>
                <td className={`outcome ${run.status === 'failed' ? 'bad' : run.promoted ? 'ok' : ''}`} data-testid="learning-run-outcome">
                  {t(`learning.outcome.${runOutcomeKey(run)}`)}
                </td>
                <td className="number">{formatDuration(runDurationMs(run), i18n.language)}</td>
                <td className="number">{speed === undefined ? '–' : formatFixed(speed, i18n.language, 1)}</td>
                <td className="reason" data-testid="learning-run-reason" title={run.error?.fix}>
                  {run.reason ?? run.error?.message ?? ''}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
