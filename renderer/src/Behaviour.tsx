/**
 * How answers are received (`stats/behaviour`): acceptance, regenerations, frustration, reward,
 * cache hits and latency, overall or for the selected project, per day (recharts) and per project.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { BehaviourMetrics, BehaviourStats } from '../../shared/contract.js';
import { toNpllmError, type SerializedError } from '../../shared/errors.js';
import { ErrorBox } from './ErrorBox.js';
import { formatDay, formatMilliseconds, formatNumber, formatPercentValue } from './locale-format.js';
import type { Transport } from './transport.js';

const rateSeries = [
  { key: 'acceptanceRate', color: '#16a34a' },
  { key: 'regenerateRate', color: '#f59e0b' },
  { key: 'frustrationRate', color: '#dc2626' },
  { key: 'cacheHitRate', color: '#2563eb' },
] as const;

export function BehaviourView({
  transport,
  project,
  projectName,
}: {
  transport: Pick<Transport, 'invoke'>;
  project: string | null;
  projectName: string | null;
}) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const [scope, setScope] = useState<'all' | 'project'>(project ? 'project' : 'all');
  const [days, setDays] = useState(30);
  const [stats, setStats] = useState<BehaviourStats | null>(null);
  const [error, setError] = useState<SerializedError | null>(null);
  const asked = scope === 'project' && project ? project : undefined;

  useEffect(() => {
    let current = true;
    transport.invoke('stats/behaviour', { ...(asked ? { project: asked } : {}), days }).then(
      (result) => current && (setStats(result), setError(null)),
      (failure: unknown) => current && setError(toNpllmError(failure).toJSON()),
    );
    return () => {
      current = false;
    };
  }, [transport, asked, days]);

  const percent = (value: number | null) => (value === null ? '–' : formatPercentValue(value, language, 1));
  const ms = (value: number | null) => (value === null ? '–' : formatMilliseconds(value, language));
  const overall = stats?.overall;
  const daily = (stats?.daily ?? []).map((day) => ({ ...day, label: formatDay(day.day, language) }));

  return (
    <section className="behaviour-view" data-testid="behaviour-view" aria-busy={!stats && !error}>
      <div className="learning-toolbar">
        <label>
          {t('behaviour.scope')}{' '}
          <select data-testid="behaviour-scope" value={asked ? 'project' : 'all'} onChange={(event) => setScope(event.target.value as 'all' | 'project')}>
            <option value="all">{t('behaviour.allProjects')}</option>
            {project && <option value="project">{projectName ?? project}</option>}
          </select>
        </label>
        <label>
          {t('behaviour.days')}{' '}
          <select data-testid="behaviour-days" value={days} onChange={(event) => setDays(Number(event.target.value))}>
            {[7, 30, 90, 365].map((each) => (
              <option key={each} value={each}>
                {t('behaviour.lastDays', { count: each })}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && <ErrorBox error={error} testId="behaviour-error" />}
      {overall && overall.interactions === 0 && (
        <p className="placeholder" data-testid="behaviour-empty">
          {t('behaviour.empty')}
        </p>
      )}
      {overall && overall.interactions > 0 && (
        <>
          <dl className="metric-cards" data-testid="behaviour-metrics">
            <Metric name={t('behaviour.questions')} value={formatNumber(overall.interactions, language)} testId="metric-interactions" />
            <Metric name={t('behaviour.acceptance')} value={percent(overall.acceptanceRate)} testId="metric-acceptance" hint={t('behaviour.acceptanceHint')} />
            <Metric name={t('behaviour.regenerations')} value={percent(overall.regenerateRate)} testId="metric-regenerations" />
            <Metric
              name={t('behaviour.frustration')}
              value={percent(overall.frustrationRate)}
              testId="metric-frustration"
              hint={t('behaviour.frustrationHint')}
            />
            <Metric
              name={t('behaviour.reward')}
              value={overall.meanReward === null ? '–' : formatNumber(overall.meanReward, language, 2)}
              testId="metric-reward"
              hint={t('behaviour.rewardHint', { count: overall.rewarded })}
            />
            <Metric name={t('behaviour.cacheHits')} value={percent(overall.cacheHitRate)} testId="metric-cache" />
            <Metric name={t('behaviour.retrieval')} value={percent(overall.retrievalRate)} testId="metric-retrieval" />
            <Metric
              name={t('behaviour.latency')}
              value={`${ms(overall.latencyMs.ttftP50)} / ${ms(overall.latencyMs.totalP50)}`}
              testId="metric-latency"
              hint={t('behaviour.latencyHint', { p95: ms(overall.latencyMs.totalP95) })}
            />
          </dl>
          <figure className="chart" data-testid="behaviour-rates-chart">
            <figcaption>{t('behaviour.ratesOverTime')}</figcaption>
            <ResponsiveContainer width="100%" height={220}>
              <LineChart data={daily} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" opacity={0.4} />
                <XAxis dataKey="label" />
                <YAxis domain={[0, 1]} tickFormatter={(value: number) => formatPercentValue(value, language)} />
                <Tooltip formatter={(value) => (typeof value === 'number' ? percent(value) : String(value))} />
                <Legend />
                {rateSeries.map((series) => (
                  <Line
                    key={series.key}
                    type="monotone"
                    dataKey={series.key}
                    name={t(`behaviour.series.${series.key}`)}
                    stroke={series.color}
                    dot={daily.length < 2}
                    connectNulls
                    isAnimationActive={false}
                  />
                ))}
              </LineChart>
            </ResponsiveContainer>
          </figure>
          <figure className="chart" data-testid="behaviour-latency-chart">
            <figcaption>{t('behaviour.latencyOverTime')}</figcaption>
            <ResponsiveContainer width="100%" height={200}>
              <LineChart
                data={daily.map((day) => ({ label: day.label, ttft: day.latencyMs.ttftP50, total: day.latencyMs.totalP50 }))}
                margin={{ top: 8, right: 16, bottom: 8, left: 8 }}
              >
                <CartesianGrid strokeDasharray="3 3" opacity={0.4} />
                <XAxis dataKey="label" />
                <YAxis tickFormatter={(value: number) => ms(value)} />
                <Tooltip formatter={(value) => (typeof value === 'number' ? ms(value) : String(value))} />
                <Legend />
                <Line
                  type="monotone"
                  dataKey="ttft"
                  name={t('behaviour.series.ttft')}
                  stroke="#7c3aed"
                  dot={daily.length < 2}
                  connectNulls
                  isAnimationActive={false}
                />
                <Line
                  type="monotone"
                  dataKey="total"
                  name={t('behaviour.series.total')}
                  stroke="#0891b2"
                  dot={daily.length < 2}
                  connectNulls
                  isAnimationActive={false}
                />
              </LineChart>
            </ResponsiveContainer>
          </figure>
          {!asked && stats.projects.length > 0 && <ProjectTable rows={stats.projects} percent={percent} ms={ms} />}
        </>
      )}
    </section>
  );
}

function Metric({ name, value, testId, hint }: { name: string; value: string; testId: string; hint?: string }) {
  return (
    <div className="metric" data-testid={testId} title={hint}>
      <dt>{name}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function ProjectTable({
  rows,
  percent,
  ms,
}: {
  rows: (BehaviourMetrics & { project: string | null })[];
  percent: (value: number | null) => string;
  ms: (value: number | null) => string;
}) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  return (
    <div className="table-scroll">
      <table className="runs" data-testid="behaviour-projects">
        <caption>{t('behaviour.perProject')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('behaviour.project')}</th>
            <th scope="col">{t('behaviour.questions')}</th>
            <th scope="col">{t('behaviour.acceptance')}</th>
            <th scope="col">{t('behaviour.regenerations')}</th>
            <th scope="col">{t('behaviour.frustration')}</th>
            <th scope="col">{t('behaviour.cacheHits')}</th>
            <th scope="col">{t('behaviour.latency')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.project ?? '(none)'} data-testid="behaviour-project" data-project={row.project ?? ''}>
              <td title={row.project ?? undefined}>{row.project ? row.project.split(/[\\/]/).pop() : t('projects.none')}</td>
              <td className="number">{formatNumber(row.interactions, language)}</td>
              <td className="number">{percent(row.acceptanceRate)}</td>
              <td className="number">{percent(row.regenerateRate)}</td>
              <td className="number">{percent(row.frustrationRate)}</td>
              <td className="number">{percent(row.cacheHitRate)}</td>
              <td className="number">{ms(row.latencyMs.totalP50)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
