import { useEffect, useRef, type KeyboardEvent } from 'react';
import { useStore } from 'zustand';
import type { SerializedError } from '../../shared/errors.js';
import { describeResult, splitCodeFences, splitInlineCode } from './format.js';
import type { ChatStore, ChatTurn } from './store.js';

export interface AppProps {
  store: ChatStore;
  /** Subscribes to main's "focus the question box" (tray quick question); desktop only. */
  onFocusRequest?: ((listener: () => void) => () => void) | undefined;
}

export function App({ store, onFocusRequest }: AppProps) {
  const turns = useStore(store, (state) => state.turns);
  const draft = useStore(store, (state) => state.draft);
  const busy = useStore(store, (state) => state.busy);
  const { setDraft, send, stop, newChat, refreshHealth } = store.getState();
  const input = useRef<HTMLTextAreaElement>(null);
  const list = useRef<HTMLElement>(null);

  useEffect(() => {
    void refreshHealth();
  }, [refreshHealth]);

  useEffect(() => onFocusRequest?.(() => input.current?.focus()), [onFocusRequest]);

  // A new question scrolls to its answer; streaming follows the answer unless the reader scrolled up.
  const following = useRef(true);
  const lastTurn = turns.at(-1);
  useEffect(() => {
    following.current = true;
  }, [turns.length]);
  useEffect(() => {
    if (following.current && list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [turns.length, lastTurn]);
  const onScroll = () => {
    const element = list.current;
    if (element) following.current = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
  };

  useEffect(() => {
    if (!busy) input.current?.focus();
  }, [busy]);

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    void send();
  };

  const empty = !draft.trim();
  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">npllm</span>
        <HealthStrip store={store} />
        <button type="button" className="ghost" data-testid="new-chat" onClick={() => newChat()} disabled={turns.length === 0 && !busy}>
          New chat
        </button>
      </header>

      <main className="messages" ref={list} onScroll={onScroll} data-testid="messages" aria-live="polite">
        {turns.length === 0 ? (
          <p className="placeholder">Ask about code. Answers are generated on this machine and never leave it.</p>
        ) : (
          turns.map((turn) => <Turn key={turn.id} turn={turn} />)
        )}
      </main>

      <form
        className="composer"
        onSubmit={(event) => {
          event.preventDefault();
          void send();
        }}
      >
        <textarea
          ref={input}
          data-testid="question"
          value={draft}
          placeholder="Ask a coding question… (Enter sends, Shift+Enter for a new line)"
          rows={3}
          autoFocus
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
        />
        {busy ? (
          <button type="button" className="stop" data-testid="stop" onClick={() => stop()}>
            Stop
          </button>
        ) : (
          <button type="submit" data-testid="send" disabled={empty} title={empty ? 'Type a question first' : 'Send (Enter)'}>
            Send
          </button>
        )}
      </form>
    </div>
  );
}

function HealthStrip({ store }: { store: ChatStore }) {
  const health = useStore(store, (state) => state.health);
  const error = useStore(store, (state) => state.healthError);
  if (error) {
    return (
      <div className="health bad" data-testid="health" title={error.fix}>
        <span className="dot" /> engine unavailable: {error.message}
      </div>
    );
  }
  if (!health) {
    return (
      <div className="health" data-testid="health">
        <span className="dot" /> connecting…
      </div>
    );
  }
  return (
    <div className={`health ${health.status === 'ok' ? 'ok' : 'bad'}`} data-testid="health" data-status={health.status}>
      <span className="dot" />
      <span data-testid="health-model">{health.model.name}</span>
      <span data-testid="health-loaded">{health.model.loaded ? 'loaded' : 'loads on first question'}</span>
      <span data-testid="health-database">
        {health.database.kind}
        {health.database.ok ? '' : ' (unreachable)'}
      </span>
    </div>
  );
}

function Turn({ turn }: { turn: ChatTurn }) {
  return (
    <>
      <div className="bubble user" data-testid="user-message">
        {turn.question}
      </div>
      <article className="bubble assistant" data-testid="answer" data-status={turn.status}>
        {turn.progress && (
          <div className="progress" data-testid="progress">
            <span>{turn.progress.label}</span>
            {turn.progress.fraction === null ? <progress /> : <progress max={1} value={turn.progress.fraction} />}
          </div>
        )}
        <div className="answer-text" data-testid="answer-text">
          {splitCodeFences(turn.answer).map((segment, index) =>
            segment.kind === 'code' ? (
              <pre key={index} data-language={segment.language || undefined}>
                <code>{segment.text}</code>
              </pre>
            ) : (
              <p key={index}>
                {splitInlineCode(segment.text).map((span, spanIndex) => (span.code ? <code key={spanIndex}>{span.text}</code> : span.text))}
              </p>
            ),
          )}
          {turn.status === 'streaming' && <span className="cursor" aria-hidden />}
        </div>
        {turn.result && (
          <footer className="meta" data-testid="answer-meta">
            {turn.result.cached && (
              <span className="badge" data-testid="cached-badge" title={`Same question as interaction ${turn.result.cachedFrom ?? ''}: answered from the cache, the model did not run.`}>
                cached
              </span>
            )}
            {describeResult(turn.result).map((part) => (
              <span key={part}>{part}</span>
            ))}
          </footer>
        )}
        {turn.result?.retrieval.used && (
          <ul className="sources" data-testid="answer-sources" title={turn.result.retrieval.reasons.join('; ')}>
            {turn.result.retrieval.sources.map((source) => (
              <li key={`${source.path}:${source.startLine}`}>
                <code>
                  {source.path}:{source.startLine}-{source.endLine}
                </code>
                {source.symbol ? ` ${source.symbol}` : ''}
              </li>
            ))}
          </ul>
        )}
        {turn.status === 'cancelled' && (
          <footer className="meta" data-testid="stopped">
            stopped
          </footer>
        )}
        {turn.error && <ErrorBox error={turn.error} />}
      </article>
    </>
  );
}

function ErrorBox({ error }: { error: SerializedError }) {
  return (
    <div className="error" role="alert" data-testid="error" data-code={error.code}>
      <strong data-testid="error-message">{error.message}</strong>
      {error.fix && (
        <p data-testid="error-fix">
          <span className="label">Fix:</span> {error.fix}
        </p>
      )}
    </div>
  );
}
