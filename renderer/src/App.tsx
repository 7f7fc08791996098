import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useStore } from 'zustand';
import type { SerializedError } from '../../shared/errors.js';
import { copyText } from './clipboard.js';
import { watchInView, watchPage } from './dwell.js';
import { describeResult, splitCodeFences, splitInlineCode } from './format.js';
import { LearningView } from './Learning.js';
import type { LearningStore } from './learning-store.js';
import { shownAttempt, type Attempt, type ChatStore, type ChatTurn } from './store.js';

export interface AppProps {
  store: ChatStore;
  /** Subscribes to main's "focus the question box" (tray quick question); desktop only. */
  onFocusRequest?: ((listener: () => void) => () => void) | undefined;
  /** The learning dashboard's state; without it there is only the chat. */
  learning?: LearningStore | undefined;
}

type View = 'chat' | 'learning';

export function App({ store, onFocusRequest, learning }: AppProps) {
  const [view, setView] = useState<View>('chat');
  const turns = useStore(store, (state) => state.turns);
  const draft = useStore(store, (state) => state.draft);
  const busy = useStore(store, (state) => state.busy);
  const { setDraft, send, stop, newChat, refreshHealth, setPageActive, leave } = store.getState();
  const input = useRef<HTMLTextAreaElement>(null);
  const list = useRef<HTMLElement>(null);

  useEffect(() => {
    void refreshHealth();
  }, [refreshHealth]);

  useEffect(
    () =>
      onFocusRequest?.(() => {
        // The tray's quick question wants the question box, whichever view is open.
        setView('chat');
        input.current?.focus();
      }),
    [onFocusRequest],
  );
  useEffect(() => {
    if (view === 'chat') input.current?.focus();
  }, [view]);

  // Dwell counts only while the window is visible and focused, and is sent when the page goes.
  useEffect(() => watchPage({ onActive: setPageActive, onLeave: leave }), [setPageActive, leave]);

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
        {learning && (
          <nav className="tabs" role="tablist" aria-label="Views">
            {(['chat', 'learning'] as const).map((each) => (
              <button key={each} type="button" role="tab" className="ghost small" aria-selected={view === each} data-testid={`tab-${each}`} onClick={() => setView(each)}>
                {each === 'chat' ? 'Chat' : 'Learning'}
              </button>
            ))}
          </nav>
        )}
        <HealthStrip store={store} />
        {view === 'chat' && (
          <button type="button" className="ghost" data-testid="new-chat" onClick={() => newChat()} disabled={turns.length === 0 && !busy}>
            New chat
          </button>
        )}
      </header>

      {/* Hidden, not unmounted: an answer keeps streaming while the dashboard is open, and a hidden one is not "in view" for dwell. */}
      <main className="messages" ref={list} onScroll={onScroll} data-testid="messages" aria-live="polite" hidden={view !== 'chat'}>
        {turns.length === 0 ? (
          <p className="placeholder">Ask about code. Answers are generated on this machine and never leave it.</p>
        ) : (
          turns.map((turn, index) => <Turn key={turn.id} turn={turn} store={store} latest={index === turns.length - 1} busy={busy} />)
        )}
      </main>

      <form
        className="composer"
        hidden={view !== 'chat'}
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
      {view === 'learning' && learning && <LearningView store={learning} />}
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

function Turn({ turn, store, latest, busy }: { turn: ChatTurn; store: ChatStore; latest: boolean; busy: boolean }) {
  const attempt = shownAttempt(turn);
  const { setAnswerInView, copied, regenerate } = store.getState();
  const article = useRef<HTMLElement>(null);
  // Dwell is per attempt: paging to another answer starts measuring that one.
  useEffect(() => {
    const element = article.current;
    return element ? watchInView(element, (inView) => setAnswerInView(attempt.id, inView)) : undefined;
  }, [attempt.id, setAnswerInView]);

  const done = attempt.status === 'done';
  return (
    <>
      <div className="bubble user" data-testid="user-message">
        {turn.question}
      </div>
      <article
        className="bubble assistant"
        ref={article}
        data-testid="answer"
        data-status={attempt.status}
        data-attempt={turn.shown + 1}
        data-attempts={turn.attempts.length}
        data-interaction-id={attempt.result?.interactionId}
      >
        {attempt.progress && (
          <div className="progress" data-testid="progress">
            <span>{attempt.progress.label}</span>
            {attempt.progress.fraction === null ? <progress /> : <progress max={1} value={attempt.progress.fraction} />}
          </div>
        )}
        <div className="answer-text" data-testid="answer-text">
          {splitCodeFences(attempt.answer).map((segment, index) =>
            segment.kind === 'code' ? (
              <div className="code-block" key={index}>
                <pre data-language={segment.language || undefined}>
                  <code>{segment.text}</code>
                </pre>
                {done && <CopyButton text={segment.text} what="code" testId="copy-code" onCopied={() => copied(attempt.id)} />}
              </div>
            ) : (
              <p key={index}>
                {splitInlineCode(segment.text).map((span, spanIndex) => (span.code ? <code key={spanIndex}>{span.text}</code> : span.text))}
              </p>
            ),
          )}
          {attempt.status === 'streaming' && <span className="cursor" aria-hidden />}
        </div>
        <AttemptFooter attempt={attempt} />
        {(done || (latest && !busy) || turn.attempts.length > 1) && (
          <div className="actions" data-testid="answer-actions">
            {done && <CopyButton text={attempt.answer} what="answer" testId="copy-answer" onCopied={() => copied(attempt.id)} />}
            {latest && !busy && attempt.status !== 'streaming' && (
              <button
                type="button"
                className="ghost small"
                data-testid="regenerate"
                title="Ask the same question again for a fresh answer (the response cache is skipped); this one stays reachable"
                onClick={() => void regenerate()}
              >
                {done ? 'Regenerate' : 'Retry'}
              </button>
            )}
            {turn.attempts.length > 1 && <AttemptPager turn={turn} store={store} />}
          </div>
        )}
      </article>
    </>
  );
}

function AttemptFooter({ attempt }: { attempt: Attempt }) {
  return (
    <>
      {attempt.result && (
        <footer className="meta" data-testid="answer-meta">
          {attempt.result.cached && (
            <span className="badge" data-testid="cached-badge" title={`Same question as interaction ${attempt.result.cachedFrom ?? ''}: answered from the cache, the model did not run.`}>
              cached
            </span>
          )}
          {describeResult(attempt.result).map((part) => (
            <span key={part}>{part}</span>
          ))}
        </footer>
      )}
      {attempt.result?.retrieval.used && (
        <ul className="sources" data-testid="answer-sources" title={attempt.result.retrieval.reasons.join('; ')}>
          {attempt.result.retrieval.sources.map((source) => (
            <li key={`${source.path}:${source.startLine}`}>
              <code>
                {source.path}:{source.startLine}-{source.endLine}
              </code>
              {source.symbol ? ` ${source.symbol}` : ''}
            </li>
          ))}
        </ul>
      )}
      {attempt.status === 'cancelled' && (
        <footer className="meta" data-testid="stopped">
          stopped
        </footer>
      )}
      {attempt.error && <ErrorBox error={attempt.error} />}
    </>
  );
}

/** Earlier answers of a regenerated question stay one click away. */
function AttemptPager({ turn, store }: { turn: ChatTurn; store: ChatStore }) {
  const { showAttempt } = store.getState();
  return (
    <span className="pager">
      <button type="button" className="ghost small" data-testid="attempt-previous" aria-label="Previous answer" disabled={turn.shown === 0} onClick={() => showAttempt(turn.id, turn.shown - 1)}>
        ‹
      </button>
      <span data-testid="attempt-position" aria-live="polite">
        {turn.shown + 1} / {turn.attempts.length}
      </span>
      <button
        type="button"
        className="ghost small"
        data-testid="attempt-next"
        aria-label="Next answer"
        disabled={turn.shown === turn.attempts.length - 1}
        onClick={() => showAttempt(turn.id, turn.shown + 1)}
      >
        ›
      </button>
    </span>
  );
}

type CopyState = 'idle' | 'copied' | 'failed';
const copyLabels: Record<CopyState, string> = { idle: 'Copy', copied: 'Copied', failed: 'Copy failed' };

/**
 * Its label comes from CSS (`data-label`), so a code block's button adds no text to the answer:
 * selecting or reading the answer's text gets the answer only.
 */
function CopyButton({ text, what, testId, onCopied }: { text: string; what: 'answer' | 'code'; testId: string; onCopied: () => void }) {
  const [state, setState] = useState<CopyState>('idle');
  const reset = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(reset.current), []);
  const onClick = async () => {
    const ok = await copyText(text);
    if (ok) onCopied();
    setState(ok ? 'copied' : 'failed');
    clearTimeout(reset.current);
    reset.current = setTimeout(() => setState('idle'), 2000);
  };
  return (
    <button
      type="button"
      className={`ghost small copy copy-${what}`}
      data-testid={testId}
      data-state={state}
      data-label={copyLabels[state]}
      aria-label={`${copyLabels[state]}${state === 'idle' ? ` ${what}` : ''}`}
      title={state === 'failed' ? 'The browser refused the clipboard; select the text and copy it by hand.' : `Copy the ${what} to the clipboard`}
      onClick={() => void onClick()}
    />
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
