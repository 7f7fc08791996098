/** The status strip: follows the engine (polled), says what it is doing, and what to do when it is down. */
import { useStore } from 'zustand';
import { useTranslation } from 'react-i18next';
import type { EngineProcessState } from '../../shared/bridge.js';
import { errorText } from './ui-error.js';
import type { ChatStore } from './store.js';

export type HealthState = 'connecting' | 'restarting' | 'down' | 'degraded' | 'learning' | 'ready' | 'idle';

export function HealthStrip({ store, engineProcess }: { store: ChatStore; engineProcess: EngineProcessState | null }) {
  const { t } = useTranslation();
  const health = useStore(store, (state) => state.health);
  const error = useStore(store, (state) => state.healthError);
  const restarted =
    engineProcess && engineProcess.restarts > 0
      ? engineProcess.reason === 'reload'
        ? t('health.reloaded')
        : t('health.restarted', { code: engineProcess.exitCode ?? '?' })
      : null;

  if (engineProcess?.state === 'restarting') {
    return (
      <div className="health warn" data-testid="health" data-state="restarting" role="status">
        <span className="dot" /> {engineProcess.reason === 'reload' ? t('health.reloading') : t('health.restarting', { code: engineProcess.exitCode ?? '?' })}
      </div>
    );
  }
  if (error) {
    const { message, fix } = errorText(error, t);
    return (
      <div className="health bad" data-testid="health" data-state="down" role="alert" title={fix}>
        <span className="dot" /> <span data-testid="health-down">{t('health.down', { message })}</span>
        {fix && (
          <span className="health-fix" data-testid="health-fix">
            {fix}
          </span>
        )}
      </div>
    );
  }
  if (!health) {
    return (
      <div className="health" data-testid="health" data-state="connecting">
        <span className="dot" /> {t('health.connecting')}
      </div>
    );
  }
  const learning = health.learner === 'running' || health.learner === 'paused';
  const state: HealthState = health.status !== 'ok' ? 'degraded' : learning ? 'learning' : health.model.loaded ? 'ready' : 'idle';
  return (
    <div className={`health ${state === 'degraded' ? 'bad' : 'ok'}`} data-testid="health" data-state={state} data-status={health.status} role="status">
      <span className="dot" />
      <span data-testid="health-model">{health.model.name}</span>
      <span data-testid="health-loaded">{health.model.loaded ? t('health.loaded') : t('health.notLoaded')}</span>
      <span data-testid="health-database">
        {health.database.kind}
        {health.database.ok ? '' : ` ${t('health.unreachable')}`}
      </span>
      {learning && <span data-testid="health-learning">{health.learner === 'paused' ? t('health.learningPaused') : t('health.learning')}</span>}
      {restarted && (
        <span data-testid="health-restarted" className="muted">
          {restarted}
        </span>
      )}
    </div>
  );
}
