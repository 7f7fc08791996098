import { useCallback, useEffect, useState } from 'react';
import type { ModulatorStatus } from '../../shared/contract.js';
import { toNpllmError, type SerializedError } from '../../shared/errors.js';

const percent = (value: number | null | undefined) => (value === null || value === undefined ? '–' : `${(value * 100).toFixed(2)} %`);

/** The modulator on the learning dashboard: its version, size, oracle gap and what it decided lately. */
export function ModulatorPanel({ load }: { load: () => Promise<ModulatorStatus> }) {
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

  if (!status) {
    return (
      <section className="learning-adapter modulator" data-testid="modulator-panel" data-state={error ? 'unavailable' : 'loading'}>
        <h2>Modulator</h2>
        <p className="placeholder" data-testid="modulator-message">
          {error ? `Modulator status unavailable: ${error.message}` : 'Asking the modulator…'}
        </p>
      </section>
    );
  }
  return (
    <section className="learning-adapter modulator" data-testid="modulator-panel" data-state="ready" data-version={status.version}>
      <h2>
        Modulator <span data-testid="modulator-version">{status.version === 0 ? 'v0 (the rules)' : `v${status.version}`}</span>{' '}
        <button type="button" className="ghost small" data-testid="modulator-refresh" onClick={refresh}>
          Refresh
        </button>
      </h2>
      <p data-testid="modulator-summary">
        {status.params.toLocaleString('en')} parameters · oracle gap{' '}
        <span data-testid="modulator-gap">{status.oracleGap === null ? 'not evaluated yet' : percent(status.oracleGap)}</span> · scales{' '}
        {status.levels.join(' / ')} · exploring {Math.round(status.exploration * 100)} % of new answers · {status.online.learned} rewards learned,{' '}
        {status.online.pending} waiting
        {status.enabled ? '' : ' · disabled'}
      </p>
      {status.fallback && (
        <p className="error" role="alert" data-testid="modulator-fallback">
          Answering with the rules: {status.fallback}
        </p>
      )}
      {status.versions.length > 0 && (
        <table className="runs" data-testid="modulator-versions">
          <thead>
            <tr>
              <th>version</th>
              <th>channel</th>
              <th>from</th>
              <th>oracle gap</th>
              <th>reason</th>
            </tr>
          </thead>
          <tbody>
            {status.versions.map((version) => (
              <tr key={version.version} data-testid="modulator-version-row" data-channel={version.channel}>
                <td>v{version.version}</td>
                <td>{version.channel}</td>
                <td>{version.origin}</td>
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
              <th>when</th>
              <th>question</th>
              <th>adapters</th>
              <th>retrieval</th>
              <th>reward</th>
            </tr>
          </thead>
          <tbody>
            {status.recent.map((decision) => (
              <tr key={decision.interactionId} data-testid="modulator-decision" data-explored={decision.explored}>
                <td>{new Date(decision.createdAt).toLocaleString()}</td>
                <td className="reason" title={decision.question}>
                  {decision.question.slice(0, 60)}
                </td>
                <td>
                  {Object.entries(decision.scales)
                    .map(([name, scale]) => `${name} ${scale}`)
                    .join(', ') || 'none'}
                  {decision.explored ? ' (explored)' : ''}
                </td>
                <td>{decision.retrieve ? 'yes' : 'no'}</td>
                <td className="number">{decision.reward === null ? '–' : decision.reward.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
