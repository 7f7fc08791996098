/** The chat: the turns of the conversation, each answer as Markdown with its sources, and the composer. */
import { useEffect, useRef, type KeyboardEvent, type RefObject } from 'react';
import { useStore } from 'zustand';
import { useTranslation } from 'react-i18next';
import { CopyButton } from './CopyButton.js';
import { ErrorBox } from './ErrorBox.js';
import { watchInView } from './dwell.js';
import { describeResult } from './format.js';
import { AnswerMarkdown } from './Markdown.js';
import { shownAttempt, type Attempt, type ChatStore, type ChatTurn } from './store.js';

export function ChatView({
  store,
  input,
  hidden,
  compact = false,
}: {
  store: ChatStore;
  input: RefObject<HTMLTextAreaElement | null>;
  hidden: boolean;
  compact?: boolean;
}) {
  const { t } = useTranslation();
  const turns = useStore(store, (state) => state.turns);
  const draft = useStore(store, (state) => state.draft);
  const busy = useStore(store, (state) => state.busy);
  const editing = useStore(store, (state) => state.editing);
  const project = useStore(store, (state) => state.project);
  const { setDraft, send, stop, cancelEdit } = store.getState();
  const list = useRef<HTMLElement>(null);

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
    if (!busy && !hidden) input.current?.focus();
  }, [busy, hidden, input]);

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Escape') {
      if (busy) stop();
      else if (editing !== null) cancelEdit();
      return;
    }
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    void send();
  };

  const empty = !draft.trim();
  return (
    <>
      {/* Hidden, not unmounted: an answer keeps streaming while a dashboard is open, and a hidden one is not "in view" for dwell. */}
      <main className="messages" ref={list} onScroll={onScroll} data-testid="messages" aria-live="polite" hidden={hidden}>
        {turns.length === 0 ? (
          <p className="placeholder">{project ? t('chat.placeholderProject', { project: project.split(/[\\/]/).pop() }) : t('chat.placeholder')}</p>
        ) : (
          turns.map((turn, index) => (
            <Turn key={turn.id} turn={turn} store={store} latest={index === turns.length - 1} busy={busy} editing={editing === turn.id} compact={compact} />
          ))
        )}
      </main>

      <form
        className="composer"
        hidden={hidden}
        onSubmit={(event) => {
          event.preventDefault();
          void send();
        }}
      >
        {editing !== null && (
          <div className="editing-note" data-testid="editing-note">
            {t('chat.editing')}{' '}
            <button type="button" className="ghost small" onClick={() => cancelEdit()}>
              {t('card.cancel')}
            </button>
          </div>
        )}
        <textarea
          ref={input}
          data-testid="chat-input"
          value={draft}
          placeholder={t('chat.inputPlaceholder')}
          aria-label={t('chat.inputLabel')}
          rows={compact ? 2 : 3}
          autoFocus
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
        />
        {busy ? (
          <button type="button" className="stop" data-testid="stop" title={t('chat.stopTitle')} onClick={() => stop()}>
            {t('chat.stop')}
          </button>
        ) : (
          <button type="submit" data-testid="send" disabled={empty} title={empty ? t('chat.typeFirst') : t('chat.sendTitle')}>
            {editing !== null ? t('chat.resend') : t('chat.send')}
          </button>
        )}
      </form>
    </>
  );
}

function Turn({
  turn,
  store,
  latest,
  busy,
  editing,
  compact,
}: {
  turn: ChatTurn;
  store: ChatStore;
  latest: boolean;
  busy: boolean;
  editing: boolean;
  compact: boolean;
}) {
  const { t } = useTranslation();
  const attempt = shownAttempt(turn);
  const { setAnswerInView, copied, regenerate, editQuestion } = store.getState();
  const article = useRef<HTMLElement>(null);
  // Dwell is per attempt: paging to another answer starts measuring that one.
  useEffect(() => {
    const element = article.current;
    return element ? watchInView(element, (inView) => setAnswerInView(attempt.id, inView)) : undefined;
  }, [attempt.id, setAnswerInView]);

  const done = attempt.status === 'done';
  return (
    <>
      <div className={`bubble user${editing ? ' being-edited' : ''}`} data-testid="user-message">
        <span className="question-text" data-testid="question-text">
          {turn.question}
        </span>
        {!busy && !compact && (
          <button
            type="button"
            className="ghost small edit"
            data-testid="edit-question"
            title={t('chat.editTitle')}
            aria-label={t('chat.edit')}
            onClick={() => editQuestion(turn.id)}
          >
            ✎
          </button>
        )}
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
          <AnswerMarkdown
            text={attempt.answer}
            codeAction={done ? (code) => <CopyButton text={code} what="code" testId="copy-code" onCopied={() => copied(attempt.id)} /> : undefined}
          />
          {attempt.status === 'streaming' && <span className="cursor" aria-hidden />}
        </div>
        <AttemptFooter attempt={attempt} />
        {(done || (latest && !busy) || turn.attempts.length > 1) && (
          <div className="actions" data-testid="answer-actions">
            {done && <CopyButton text={attempt.answer} what="answer" testId="copy-answer" onCopied={() => copied(attempt.id)} />}
            {latest && !busy && attempt.status !== 'streaming' && (
              <button type="button" className="ghost small" data-testid="regenerate" title={t('chat.regenerateTitle')} onClick={() => void regenerate()}>
                {done ? t('chat.regenerate') : t('chat.retry')}
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
  const { t, i18n } = useTranslation();
  return (
    <>
      {attempt.result && (
        <footer className="meta" data-testid="answer-meta">
          {attempt.result.cached && (
            <span className="badge" data-testid="cached-badge" title={t('chat.cachedTitle', { id: attempt.result.cachedFrom ?? '' })}>
              {t('chat.cached')}
            </span>
          )}
          {describeResult(attempt.result, t, i18n.language).map((part) => (
            <span key={part}>{part}</span>
          ))}
        </footer>
      )}
      {attempt.result?.retrieval.used && (
        <div className="sources" data-testid="sources" title={attempt.result.retrieval.reasons.join('; ')}>
          <span className="label">{t('chat.sources')}</span>
          <ul>
            {attempt.result.retrieval.sources.map((source) => (
              <li key={`${source.path}:${source.startLine}`} data-testid="source">
                <code>
                  {source.path}:{source.startLine}-{source.endLine}
                </code>
                {source.symbol ? ` ${source.symbol}` : ''}
              </li>
            ))}
          </ul>
        </div>
      )}
      {attempt.status === 'cancelled' && (
        <footer className="meta" data-testid="stopped">
          {t('chat.stopped')}
        </footer>
      )}
      {attempt.error && <ErrorBox error={attempt.error} />}
    </>
  );
}

/** Earlier answers of a regenerated question stay one click away. */
function AttemptPager({ turn, store }: { turn: ChatTurn; store: ChatStore }) {
  const { t } = useTranslation();
  const { showAttempt } = store.getState();
  return (
    <span className="pager">
      <button
        type="button"
        className="ghost small"
        data-testid="attempt-previous"
        aria-label={t('chat.previousAnswer')}
        disabled={turn.shown === 0}
        onClick={() => showAttempt(turn.id, turn.shown - 1)}
      >
        ‹
      </button>
      <span data-testid="attempt-position" aria-live="polite">
        {turn.shown + 1} / {turn.attempts.length}
      </span>
      <button
        type="button"
        className="ghost small"
        data-testid="attempt-next"
        aria-label={t('chat.nextAnswer')}
        disabled={turn.shown === turn.attempts.length - 1}
        onClick={() => showAttempt(turn.id, turn.shown + 1)}
      >
        ›
      </button>
    </span>
  );
}
