/**
 * The learning dashboard's state, outside React so it is tested without rendering: every
 * adapter's learning history (`stats/learning`) and the background learner (`learning/status`),
 * polled only while the view is open.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { LearnerStatus, LearningStats, ModulatorStatus } from '../../shared/contract.js';
import { toNpllmError, type SerializedError } from '../../shared/errors.js';
import type { Transport } from './transport.js';

export interface LearningState {
  stats: LearningStats | null;
  statsError: SerializedError | null;
  statsLoading: boolean;
  learner: LearnerStatus | null;
  /** The last poll failed (an engine without a learner, a server gone); `learner` is the last known status. */
  learnerError: SerializedError | null;
  refreshStats: () => Promise<void>;
  refreshLearner: () => Promise<void>;
  /**
   * The view opened: loads the stats, polls the learner until the returned function is called, and
   * reloads the stats whenever a run starts or ends, so a finished run shows without a click.
   */
  open: () => () => void;
  /** The modulator's status (its own panel asks for it when shown). */
  modulatorStatus: () => Promise<ModulatorStatus>;
}

export type LearningStore = StoreApi<LearningState>;

export interface LearningStoreOptions {
  /** How often the learner is asked while the view is open. */
  pollMs?: number;
  /** Latest runs listed per adapter. */
  runs?: number;
}

export const learnerPollMs = 3000;
export const dashboardRuns = 10;

export function createLearningStore(transport: Pick<Transport, 'invoke'>, options: LearningStoreOptions = {}): LearningStore {
  const pollMs = options.pollMs ?? learnerPollMs;
  const runs = options.runs ?? dashboardRuns;
  /** Answers that arrive after a newer request was sent are dropped: the newer one wins. */
  let statsRequest = 0;
  let learnerRequest = 0;

  return createStore<LearningState>()((set, get) => ({
    stats: null,
    statsError: null,
    statsLoading: false,
    learner: null,
    learnerError: null,

    async refreshStats() {
      const request = ++statsRequest;
      set({ statsLoading: true });
      try {
        const stats = await transport.invoke('stats/learning', { runs });
        if (request === statsRequest) set({ stats, statsError: null });
      } catch (failure) {
        if (request === statsRequest) set({ statsError: toNpllmError(failure).toJSON() });
      } finally {
        if (request === statsRequest) set({ statsLoading: false });
      }
    },

    async refreshLearner() {
      const request = ++learnerRequest;
      try {
        // A poll in the background must not pop up the API key prompt every few seconds.
        const learner = await transport.invoke('learning/status', {}, { askForKey: false });
        if (request === learnerRequest) set({ learner, learnerError: null });
      } catch (failure) {
        if (request === learnerRequest) set({ learnerError: toNpllmError(failure).toJSON() });
      }
    },

    modulatorStatus: () => transport.invoke('modulator/status', {}, { askForKey: false }),

    open() {
      let closed = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let seen: string | null = null;
      const poll = async () => {
        await get().refreshLearner();
        if (closed) return;
        const marker = runMarker(get().learner);
        if (seen !== null && marker !== seen) void get().refreshStats();
        seen = marker;
        timer = setTimeout(() => void poll(), pollMs);
      };
      void get().refreshStats();
      void poll();
      return () => {
        closed = true;
        clearTimeout(timer);
      };
    },
  }));
}

/** Changes when a run starts, ends or fails: the moments the stats have something new. */
function runMarker(status: LearnerStatus | null): string {
  if (!status) return '';
  return JSON.stringify([status.current?.runId ?? status.current?.project ?? null, status.last?.runId ?? null, status.lastError?.message ?? null]);
}
