/** What a person can do about learning from the app: learn a project now, promote or roll back an adapter (each confirmed first). */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Progress } from '../../shared/contract.js';
import { toNpllmError, type SerializedError } from '../../shared/errors.js';
import { ErrorBox } from './ErrorBox.js';
import type { Transport } from './transport.js';

export function LearnNow({ transport, project, onDone }: { transport: Transport; project: string | null; onDone: () => void }) {
  const { t } = useTranslation();
  const [asking, setAsking] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [running, setRunning] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [error, setError] = useState<SerializedError | null>(null);
  if (!project)
    return (
      <span className="muted" data-testid="learn-now-hint">
        {t('learning.pickProject')}
      </span>
    );
  const name = project.split(/[\\/]/).pop();

  const learn = async () => {
    setAsking(false);
    setRunning(true);
    setError(null);
    setOutcome(null);
    try {
      const result = await transport.stream('learning/consolidate', { project }, { onProgress: setProgress });
      setOutcome(result.reason);
    } catch (failure) {
      setError(toNpllmError(failure).toJSON());
    } finally {
      setRunning(false);
      setProgress(null);
      onDone();
    }
  };

  return (
    <span className="learn-now">
      {asking ? (
        <span className="confirm-inline" data-testid="learn-now-confirm">
          {t('learning.learnQuestion', { name })}{' '}
          <button type="button" className="small" data-testid="learn-now-yes" onClick={() => void learn()}>
            {t('learning.learnNow')}
          </button>{' '}
          <button type="button" className="ghost small" onClick={() => setAsking(false)}>
            {t('card.cancel')}
          </button>
        </span>
      ) : (
        <button type="button" className="small" data-testid="learn-now" disabled={running} onClick={() => setAsking(true)}>
          {running ? t('learning.learning') : t('learning.learnNamed', { name })}
        </button>
      )}
      {progress && (
        <span className="learner-progress" data-testid="learn-now-progress">
          {progress.label} {progress.fraction === null ? <progress /> : <progress max={1} value={progress.fraction} />}
        </span>
      )}
      {outcome && <span data-testid="learn-now-outcome">{outcome}</span>}
      {error && <ErrorBox error={error} testId="learn-now-error" />}
    </span>
  );
}

export function ChannelActions({ transport, adapter, onDone }: { transport: Transport; adapter: string; onDone: () => void }) {
  const { t } = useTranslation();
  const [asking, setAsking] = useState<'promote' | 'rollback' | null>(null);
  const [error, setError] = useState<SerializedError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const change = async (action: 'promote' | 'rollback') => {
    setAsking(null);
    setError(null);
    try {
      const result = await transport.invoke(action === 'promote' ? 'adapters/promote' : 'adapters/rollback', {
        name: adapter,
        reason: action === 'promote' ? 'promoted from the app' : 'rolled back from the app',
      });
      setDone(t(`learning.${action}d`, { version: result.stable.version }));
      onDone();
    } catch (failure) {
      setError(toNpllmError(failure).toJSON());
    }
  };

  return (
    <span className="channel-actions">
      {asking ? (
        <span className="confirm-inline" data-testid="channel-confirm">
          {t(`learning.${asking}Question`, { adapter })}{' '}
          <button type="button" className="small" data-testid="channel-yes" onClick={() => void change(asking)}>
            {t(`learning.${asking}`)}
          </button>{' '}
          <button type="button" className="ghost small" onClick={() => setAsking(null)}>
            {t('card.cancel')}
          </button>
        </span>
      ) : (
        <>
          <button type="button" className="ghost small" data-testid="adapter-promote" onClick={() => setAsking('promote')}>
            {t('learning.promote')}
          </button>
          <button type="button" className="ghost small" data-testid="adapter-rollback" onClick={() => setAsking('rollback')}>
            {t('learning.rollback')}
          </button>
        </>
      )}
      {done && (
        <span className="ok-text" data-testid="channel-done">
          {done}
        </span>
      )}
      {error && <ErrorBox error={error} testId="channel-error" />}
    </span>
  );
}
