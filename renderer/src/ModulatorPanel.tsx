import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ModulatorStatus } from '../../shared/contract.js';
import { toNpllmError, type SerializedError } from '../../shared/errors.js';
import { formatDateTime, formatFixed, formatNumber } from './locale-format.js';
import { errorText } from './ui-error.js';

/** The modulator on the learning dashboard: its version, size, oracle gap and what it decided lately. */
export function ModulatorPanel({ load }: { load: () => Promise<ModulatorStatus> }) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const [status, setStatus] = useState<ModulatorStatus | null>(null);
  const [error, setError] = useState<SerializedError | null>(null);
  const refresh = useCallback(() => {
    load().then(
      (next) => {
        setStatus(next);
        setError(null);
      },
      (failure: unknown) => setError(toNpllmError(failure).toJSON()),
    );
  }, [load]);
  useEffect(() => refresh(), [refresh]);

  const percent = (value: number | null | undefined) => (value === null || value === undefined ? '–' : `${formatFixed(value * 100, language, 2)} %`);

  if (!status) {
    return (
      <section className="learning-adapter modulator" data-testid="modulator-panel" data-state={error ? 'unavailable' : 'loading'}>
        <h2>{t('modulator.title')}</h2>
        <p className="placeholder" data-testid="modulator-message">
          {error ? t('modulator.unavailable', { message: errorText(error, t).message }) : t('modulator.asking')}
        </p>
      </section>
    );
  }
  return (
    <section className="learning-adapter modulator" data-testid="modulator-panel" data-state="ready" data-version={status.version}>
      <h2>
        {t('modulator.title')} <span data-testid="modulator-version">{status.version === 0 ? t('modulator.rules') : `v${status.version}`}</span>{' '}
        <button type="button" className="ghost small" data-testid="modulator-refresh" onClick={refresh}>
          {t('learning.refresh')}
        </button>
      </h2>
      <p data-testid="modulator-summary">
        {t('modulator.params', { count: status.params })} · {t('modulator.gap')}{' '}
        <span data-testid="modulator-gap">{status.oracleGap === null ? t('modulator.notEvaluated') : percent(status.oracleGap)}</span> · {t('modulator.scales')}{' '}
        {status.levels.map((level) => formatNumber(level, language, 2)).join(' / ')} ·{' '}
        {t('modulator.exploring', { percent: `${formatNumber(status.exploration * 100, language)} %` })} ·{' '}
        {t('modulator.learned', { count: status.online.learned })}, {t('modulator.waiting', { count: status.online.pending })}
        {status.enabled ? '' : ` · ${t('modulator.disabled')}`}
      </p>
      {status.fallback && (
        <p className="error" role="alert" data-testid="modulator-fallback">
          {t('modulator.fallback', { reason: status.fallback })}
        </p>
      )}
      {status.versions.length > 0 && (
        <table className="runs" data-testid="modulator-versions">
          <thead>
            <tr>
              <th>{t('modulator.col.version')}</th>
              <th>{t('modulator.col.channel')}</th>
              <th>{t('modulator.col.origin')}</th>
              <th>{t('modulator.col.gap')}</th>
              <th>{t('modulator.col.reason')}</th>
            </tr>
          </thead>
          <tbody>
            {status.versions.map((version) => (
              <tr key={version.version} data-testid="modulator-version-row" data-channel={version.channel}>
                <td>v{version.version}</td>
                <td>{t(`learning.channel.${version.channel}`)}</td>
                <td>{t(`modulator.origin.${version.origin}`)}</td>
                <td className="number">{percent(version.metrics.oracleGap)}</td>
                <td className="reason">{version.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {status.recent.length > 0 && (
        <table className="runs" data-testid="modulator-decisions">
          <thead>
            <tr>
              <th>{t('modulator.col.when')}</th>
              <th>{t('modulator.col.question')}</th>
              <th>{t('modulator.col.adapters')}</th>
              <th>{t('modulator.col.retrieval')}</th>
              <th>{t('modulator.col.reward')}</th>
            </tr>
          </thead>
          <tbody>
            {status.recent.map((decision) => (
              <tr key={decision.interactionId} data-testid="modulator-decision" data-explored={decision.explored}>
                <td>{formatDateTime(decision.createdAt, language)}</td>
                <td className="reason" title={decision.question}>
                  {decision.question.slice(0, 60)}
                </td>
                <td>
                  {Object.entries(decision.scales)
                    .map(([name, scale]) => `${name} ${formatNumber(scale, language, 2)}`)
                    .join(t('modulator.scaleSeparator')) || t('modulator.none')}
                  {decision.explored ? ` ${t('modulator.explored')}` : ''}
                </td>
                <td>{decision.retrieve ? t('modulator.yes') : t('modulator.no')}</td>
                <td className="number">{decision.reward === null ? '–' : formatFixed(decision.reward, language, 2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
