/**
 * The chat's state, outside React so it is tested without rendering: the conversation, the
 * question being typed, the engine's health, and the one answer that may be streaming.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { AskResponse, ChatMessage, Health, Progress } from '../../shared/contract.js';
import { toNpllmError, type SerializedError } from '../../shared/errors.js';
import type { Transport } from './transport.js';

export interface ChatTurn {
  id: number;
  question: string;
  /** Grows token by token while streaming; the final answer once done. */
  answer: string;
  status: 'streaming' | 'done' | 'error' | 'cancelled';
  /** Model download or load under way for this question. */
  progress: Progress | null;
  result: AskResponse | null;
  error: SerializedError | null;
}

export interface ChatState {
  turns: ChatTurn[];
  draft: string;
  busy: boolean;
  health: Health | null;
  healthError: SerializedError | null;
  // Actions are properties, not methods: components take them out of the state unbound.
  setDraft: (draft: string) => void;
  /** Asks the draft; resolves when the answer is complete, failed or stopped. */
  send: () => Promise<void>;
  stop: () => void;
  /** Forgets the conversation, so the next question is asked without history. */
  newChat: () => void;
  refreshHealth: () => Promise<void>;
}

export type ChatStore = StoreApi<ChatState>;

/**
 * Earlier turns sent with a question. Small local models have small context windows and get
 * slower with every prompt token, so only the latest few go along.
 */
export const historyTurns = 4;

export function createChatStore(transport: Transport): ChatStore {
  let nextId = 1;
  let running: AbortController | null = null;

  return createStore<ChatState>()((set, get) => {
    const update = (id: number, change: Partial<ChatTurn> | ((turn: ChatTurn) => Partial<ChatTurn>)) =>
      set(({ turns }) => ({ turns: turns.map((turn) => (turn.id === id ? { ...turn, ...(typeof change === 'function' ? change(turn) : change) } : turn)) }));

    return {
      turns: [],
      draft: '',
      busy: false,
      health: null,
      healthError: null,

      setDraft: (draft) => set({ draft }),

      async send() {
        const { draft, busy, turns } = get();
        if (busy || !draft.trim()) return;
        const history: ChatMessage[] = turns
          .filter((turn) => turn.status === 'done')
          .slice(-historyTurns)
          .flatMap((turn) => [
            { role: 'user', content: turn.question },
            { role: 'assistant', content: turn.answer },
          ]);
        const turn: ChatTurn = { id: nextId++, question: draft, answer: '', status: 'streaming', progress: null, result: null, error: null };
        const controller = new AbortController();
        running = controller;
        set({ turns: [...turns, turn], draft: '', busy: true });
        try {
          const result = await transport.ask(
            { question: draft, ...(history.length ? { history } : {}) },
            {
              signal: controller.signal,
              onToken: (text) => update(turn.id, (current) => ({ answer: current.answer + text, progress: null })),
              onProgress: (progress) => update(turn.id, { progress: progress.done ? null : progress }),
            },
          );
          update(turn.id, { status: 'done', answer: result.answer, result, progress: null });
          // The first answer loads the model: the status strip should say so.
          void get().refreshHealth();
        } catch (failure) {
          const error = toNpllmError(failure);
          update(turn.id, error.code === 'CANCELLED' ? { status: 'cancelled', progress: null } : { status: 'error', error: error.toJSON(), progress: null });
        } finally {
          if (running === controller) running = null;
          set({ busy: false });
        }
      },

      stop() {
        running?.abort();
      },

      newChat() {
        running?.abort();
        set({ turns: [] });
      },

      async refreshHealth() {
        try {
          set({ health: await transport.invoke('system/health', {}), healthError: null });
        } catch (failure) {
          set({ healthError: toNpllmError(failure).toJSON() });
        }
      },
    };
  });
}
