/**
 * The chat's state, outside React so it is tested without rendering: the conversation, the
 * question being typed, the engine's health, the one answer that may be streaming, and the
 * implicit feedback the reader's actions produce (copy, regenerate, dwell; renderer/README.md).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { AskRequest, AskResponse, ChatMessage, ConversationSummary, Health, InteractionRecord, Progress } from '../../shared/contract.js';
import { toNpllmError, type SerializedError } from '../../shared/errors.js';
import { DwellTracker, type DwellOptions } from './dwell.js';
import { createFeedbackSender, dwellEventId, newEventId, type FeedbackSender, type SendOptions } from './feedback.js';
import type { Transport } from './transport.js';

/** One answer to a question; Regenerate adds another to the same turn. */
export interface Attempt {
  /** Unique in the store; names the answer before the engine's interactionId is known. */
  id: number;
  /** Grows token by token while streaming; the final answer once done. */
  answer: string;
  status: 'streaming' | 'done' | 'error' | 'cancelled';
  /** Model download or load under way for this answer. */
  progress: Progress | null;
  result: AskResponse | null;
  error: SerializedError | null;
}

export interface ChatTurn {
  id: number;
  question: string;
  /** What the question was asked with, so a regenerated answer is asked the same way. */
  history: ChatMessage[];
  /** Oldest first; never empty. */
  attempts: Attempt[];
  /** Index of the attempt on screen; a new attempt is shown as it starts. */
  shown: number;
}

export function shownAttempt(turn: ChatTurn): Attempt {
  return turn.attempts[turn.shown] ?? turn.attempts.at(-1)!;
}

export interface ChatState {
  turns: ChatTurn[];
  draft: string;
  busy: boolean;
  health: Health | null;
  healthError: SerializedError | null;
  /** The chat's id: every question of it carries it, so it can be reopened (conversations/…). */
  conversationId: string;
  /** The project the questions are about (retrieval, learning); null: none. */
  project: string | null;
  /** The conversations of the current project, the latest first. */
  conversations: ConversationSummary[];
  conversationsError: SerializedError | null;
  /** The turn whose question is being edited in the composer: sending replaces it and what followed. */
  editing: number | null;
  /** Scopes the chat to a project; another project starts a new chat. */
  setProject: (project: string | null) => void;
  refreshConversations: () => Promise<void>;
  /** Reopens a stored conversation: its questions and answers become the chat, and it goes on from there. */
  openConversation: (id: string) => Promise<void>;
  renameConversation: (id: string, title: string) => Promise<void>;
  deleteConversation: (id: string) => Promise<void>;
  /** Puts a question back in the composer; sending it asks it again in place of that turn. */
  editQuestion: (turnId: number) => void;
  cancelEdit: () => void;
  // Actions are properties, not methods: components take them out of the state unbound.
  setDraft: (draft: string) => void;
  /** Asks the draft; resolves when the answer is complete, failed or stopped. */
  send: () => Promise<void>;
  /**
   * Asks the latest question again, bypassing the response cache, as a new attempt of the same
   * turn; the request names the answer on screen (`regenerates`), which stays reachable.
   */
  regenerate: () => Promise<void>;
  /** Shows another attempt of a turn. */
  showAttempt: (turnId: number, index: number) => void;
  /** The reader copied an answer, or code from it. */
  copied: (attemptId: number) => void;
  stop: () => void;
  /** Forgets the conversation, so the next question is asked without history. */
  newChat: () => void;
  refreshHealth: () => Promise<void>;
  /** From the view: whether enough of an answer is on screen to be read. */
  setAnswerInView: (attemptId: number, inView: boolean) => void;
  /** From the view: whether the window is visible and focused. */
  setPageActive: (active: boolean) => void;
  /** The page is going away: sends the dwell of every finished answer with reading time not sent yet. */
  leave: () => void;
}

export type ChatStore = StoreApi<ChatState>;

export interface ChatStoreOptions {
  /** The project the chat starts scoped to. */
  project?: string | null;
  feedback?: FeedbackSender;
  /** Dwell clock and timings; tests drive them. */
  dwell?: Omit<DwellOptions, 'onSettled'>;
}

/**
 * Earlier turns sent with a question. Small local models have small context windows and get
 * slower with every prompt token, so only the latest few go along.
 */
export const historyTurns = 4;

export function createChatStore(transport: Transport, options: ChatStoreOptions = {}): ChatStore {
  let nextId = 1;
  let running: AbortController | null = null;
  const feedback = options.feedback ?? createFeedbackSender(transport);
  /** Finished attempts' interactions, by attempt id: what feedback is about. */
  const interactions = new Map<number, string>();
  const dwell = new DwellTracker({ ...options.dwell, onSettled: (key) => sendDwell(key) });

  /**
   * Sends an answer's reading time if there is (new) time to send. The eventId is the same each
   * time: the engine keeps the largest value sent under it.
   */
  const sendDwell = (key: string, sendOptions: SendOptions = {}) => {
    const value = dwell.take(key);
    const interactionId = interactions.get(Number(key));
    if (!interactionId || value === null || value <= 0) return;
    void feedback.send({ eventId: dwellEventId(interactionId), interactionId, type: 'dwell', value }, sendOptions);
  };
  /** The reader moved on from an answer: its last reading time goes, and nothing more is counted. */
  const finishDwell = (key: string) => {
    sendDwell(key);
    dwell.close(key);
  };

  return createStore<ChatState>()((set, get) => {
    const updateAttempt = (attemptId: number, change: Partial<Attempt> | ((attempt: Attempt) => Partial<Attempt>)) =>
      set(({ turns }) => ({
        turns: turns.map((turn) =>
          turn.attempts.some((attempt) => attempt.id === attemptId)
            ? {
                ...turn,
                attempts: turn.attempts.map((attempt) =>
                  attempt.id === attemptId ? { ...attempt, ...(typeof change === 'function' ? change(attempt) : change) } : attempt,
                ),
              }
            : turn,
        ),
      }));

    const newAttempt = (): Attempt => ({ id: nextId++, answer: '', status: 'streaming', progress: null, result: null, error: null });

    /** Streams one attempt's answer into the store. */
    const run = async (attemptId: number, request: AskRequest) => {
      const controller = new AbortController();
      running = controller;
      set({ busy: true });
      try {
        const result = await transport.ask(request, {
          signal: controller.signal,
          onToken: (text) => updateAttempt(attemptId, (current) => ({ answer: current.answer + text, progress: null })),
          onProgress: (progress) => updateAttempt(attemptId, { progress: progress.done ? null : progress }),
        });
        interactions.set(attemptId, result.interactionId);
        updateAttempt(attemptId, { status: 'done', answer: result.answer, result, progress: null });
        dwell.ready(String(attemptId));
        // The first answer loads the model: the status strip should say so.
        void get().refreshHealth();
      } catch (failure) {
        const error = toNpllmError(failure);
        dwell.discard(String(attemptId));
        updateAttempt(
          attemptId,
          error.code === 'CANCELLED' ? { status: 'cancelled', progress: null } : { status: 'error', error: error.toJSON(), progress: null },
        );
      } finally {
        if (running === controller) running = null;
        set({ busy: false });
      }
    };

    const attemptById = (attemptId: number) =>
      get()
        .turns.flatMap((turn) => turn.attempts)
        .find((attempt) => attempt.id === attemptId);

    /** What every question of this chat carries: its conversation and project. */
    const scope = () => {
      const { conversationId, project } = get();
      return { conversationId, ...(project ? { project } : {}) };
    };

    return {
      turns: [],
      draft: '',
      busy: false,
      health: null,
      healthError: null,
      conversationId: newEventId(),
      project: options.project ?? null,
      conversations: [],
      conversationsError: null,
      editing: null,

      setDraft: (draft) => set({ draft }),

      async send() {
        const { draft, busy, editing } = get();
        if (busy || !draft.trim()) return;
        // An edited question replaces its turn and everything after it.
        const turns =
          editing === null
            ? get().turns
            : get().turns.slice(
                0,
                Math.max(
                  0,
                  get().turns.findIndex((turn) => turn.id === editing),
                ),
              );
        const history: ChatMessage[] = turns
          .filter((turn) => shownAttempt(turn).status === 'done')
          .slice(-historyTurns)
          .flatMap((turn) => [
            { role: 'user', content: turn.question },
            { role: 'assistant', content: shownAttempt(turn).answer },
          ]);
        // The new question is the reader's reaction to the answer on screen just above it. With
        // none (a new chat, or the answer above failed or was stopped) it reacts to nothing: null,
        // so that the engine does not link it to some earlier answer of its own choosing.
        const previous = turns.at(-1);
        const above = previous ? shownAttempt(previous) : undefined;
        const replyTo = (above?.status === 'done' ? above.result?.interactionId : undefined) ?? null;
        // Asking again means the reader has moved on from what is on screen.
        for (const key of dwell.open()) finishDwell(key);
        const attempt = newAttempt();
        const turn: ChatTurn = { id: nextId++, question: draft, history, attempts: [attempt], shown: 0 };
        set({ turns: [...turns, turn], draft: '', editing: null });
        await run(attempt.id, { question: draft, ...(history.length ? { history } : {}), replyTo, ...scope() });
        void get().refreshConversations();
      },

      async regenerate() {
        const { busy, turns } = get();
        const turn = turns.at(-1);
        if (busy || !turn) return;
        const current = shownAttempt(turn);
        if (current.status === 'streaming') return;
        const interactionId = current.result?.interactionId;
        // The engine records the `regenerated` event itself, from `regenerates`, with the request.
        if (interactionId) finishDwell(String(current.id));
        const attempt = newAttempt();
        set({ turns: turns.map((each) => (each.id === turn.id ? { ...each, attempts: [...each.attempts, attempt], shown: each.attempts.length } : each)) });
        await run(attempt.id, {
          question: turn.question,
          ...(turn.history.length ? { history: turn.history } : {}),
          noCache: true,
          // A retry after a failure or Stop: the question was already read as the reaction to the
          // answer before it when first asked, so asking it again reacts to nothing.
          ...(interactionId ? { regenerates: interactionId } : { replyTo: null }),
          ...scope(),
        });
      },

      showAttempt(turnId, index) {
        set(({ turns }) => ({
          turns: turns.map((turn) => (turn.id === turnId && index >= 0 && index < turn.attempts.length ? { ...turn, shown: index } : turn)),
        }));
      },

      copied(attemptId) {
        const interactionId = attemptById(attemptId)?.result?.interactionId;
        if (interactionId) void feedback.send({ interactionId, type: 'copied' });
      },

      stop() {
        running?.abort();
      },

      newChat() {
        running?.abort();
        for (const key of dwell.open()) finishDwell(key);
        set({ turns: [], conversationId: newEventId(), editing: null });
      },

      async refreshHealth() {
        try {
          set({ health: await transport.invoke('system/health', {}, { askForKey: false }), healthError: null });
        } catch (failure) {
          set({ healthError: toNpllmError(failure).toJSON() });
        }
      },

      setProject(project) {
        if (project === get().project) return;
        set({ project, conversations: [] });
        get().newChat();
        void get().refreshConversations();
      },

      async refreshConversations() {
        try {
          const { items } = await transport.invoke('conversations/list', { project: get().project }, { askForKey: false });
          set({ conversations: items, conversationsError: null });
        } catch (failure) {
          set({ conversationsError: toNpllmError(failure).toJSON() });
        }
      },

      async openConversation(id) {
        const { conversation, interactions: records } = await transport.invoke('conversations/get', { id });
        running?.abort();
        for (const key of dwell.open()) finishDwell(key);
        const turns = records.map((record) => turnFromRecord(record, nextId++, nextId++));
        for (const turn of turns) {
          const attempt = turn.attempts[0]!;
          if (attempt.result) interactions.set(attempt.id, attempt.result.interactionId);
        }
        set({ turns, conversationId: conversation.id, editing: null, draft: '' });
        if (conversation.project !== get().project) set({ project: conversation.project });
      },

      async renameConversation(id, title) {
        await transport.invoke('conversations/rename', { id, title });
        await get().refreshConversations();
      },

      async deleteConversation(id) {
        await transport.invoke('conversations/delete', { id });
        if (get().conversationId === id) get().newChat();
        await get().refreshConversations();
      },

      editQuestion(turnId) {
        const turn = get().turns.find((each) => each.id === turnId);
        if (!turn || get().busy) return;
        set({ editing: turnId, draft: turn.question });
      },

      cancelEdit: () => set({ editing: null, draft: '' }),

      setAnswerInView: (attemptId, inView) => dwell.setInView(String(attemptId), inView),
      setPageActive: (active) => dwell.setPageActive(active),
      leave: () => {
        for (const key of dwell.pending()) sendDwell(key, { keepalive: true });
      },
    };
  });
}

/** A stored question and its answer as a turn of the chat (a reopened conversation). */
export function turnFromRecord(record: InteractionRecord, turnId: number, attemptId: number): ChatTurn {
  const done = record.status === 'completed';
  const result: AskResponse | null =
    done && record.answer !== null
      ? {
          interactionId: record.id,
          answer: record.answer,
          cached: record.cached,
          cachedFrom: record.cachedFrom,
          model: record.model,
          adapters: record.adapters,
          timings: record.timings ?? { ttftMs: 0, totalMs: 0, tokens: 0, promptTokens: 0, loadMs: 0 },
          finishReason: 'stop',
          retrieval: record.retrieval ?? { used: false, reasons: [], sources: [] },
          conversationId: record.conversationId,
          createdAt: record.createdAt,
        }
      : null;
  const status: Attempt['status'] = result ? 'done' : record.status === 'cancelled' || record.status === 'pending' ? 'cancelled' : 'error';
  return {
    id: turnId,
    question: record.question,
    history: record.history,
    attempts: [{ id: attemptId, answer: record.answer ?? '', status, progress: null, result, error: status === 'error' ? record.error : null }],
    shown: 0,
  };
}
