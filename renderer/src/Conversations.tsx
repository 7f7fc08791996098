/** The conversations of the current project: reopen, rename, delete, new. */
import { useState } from 'react';
import { useStore } from 'zustand';
import { useTranslation } from 'react-i18next';
import { toNpllmError, type SerializedError } from '../../shared/errors.js';
import type { ConversationSummary } from '../../shared/contract.js';
import { ErrorBox } from './ErrorBox.js';
import { formatDateTime } from './locale-format.js';
import type { ChatStore } from './store.js';

export function ConversationPanel({ store, onOpened }: { store: ChatStore; onOpened: () => void }) {
  const { t } = useTranslation();
  const conversations = useStore(store, (state) => state.conversations);
  const current = useStore(store, (state) => state.conversationId);
  const listError = useStore(store, (state) => state.conversationsError);
  const busy = useStore(store, (state) => state.busy);
  const turns = useStore(store, (state) => state.turns.length);
  const [error, setError] = useState<SerializedError | null>(null);
  const { newChat, openConversation } = store.getState();

  const attempt = async (work: () => Promise<void>) => {
    try {
      setError(null);
      await work();
    } catch (failure) {
      setError(toNpllmError(failure).toJSON());
    }
  };

  return (
    <section className="panel conversations" aria-label={t('conversations.title')}>
      <header className="panel-header">
        <h2>{t('conversations.title')}</h2>
        <button type="button" className="ghost small" data-testid="new-chat" onClick={() => newChat()} disabled={turns === 0 && !busy}>
          {t('conversations.new')}
        </button>
      </header>
      {(error ?? listError) && <ErrorBox error={(error ?? listError)!} testId="conversations-error" />}
      <ul className="conversation-list" data-testid="conversation-list">
        {conversations.map((conversation) => (
          <ConversationItem
            key={conversation.id}
            conversation={conversation}
            current={conversation.id === current}
            onOpen={() =>
              void attempt(async () => {
                await openConversation(conversation.id);
                onOpened();
              })
            }
            onRename={(title) => void attempt(() => store.getState().renameConversation(conversation.id, title))}
            onDelete={() => void attempt(() => store.getState().deleteConversation(conversation.id))}
          />
        ))}
      </ul>
      {conversations.length === 0 && (
        <p className="muted" data-testid="conversations-empty">
          {t('conversations.empty')}
        </p>
      )}
    </section>
  );
}

function ConversationItem({
  conversation,
  current,
  onOpen,
  onRename,
  onDelete,
}: {
  conversation: ConversationSummary;
  current: boolean;
  onOpen: () => void;
  onRename: (title: string) => void;
  onDelete: () => void;
}) {
  const { t, i18n } = useTranslation();
  const [renaming, setRenaming] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  if (renaming !== null) {
    return (
      <li className="conversation-item editing" data-testid="conversation-item" data-id={conversation.id}>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (renaming.trim()) onRename(renaming.trim());
            setRenaming(null);
          }}
        >
          <input
            autoFocus
            value={renaming}
            aria-label={t('conversations.title')}
            data-testid="conversation-title-input"
            onChange={(event) => setRenaming(event.target.value)}
            onKeyDown={(event) => event.key === 'Escape' && setRenaming(null)}
          />
          <button type="submit" className="small" data-testid="conversation-rename-save">
            {t('conversations.save')}
          </button>
        </form>
      </li>
    );
  }
  return (
    <li className={`conversation-item${current ? ' current' : ''}`} data-testid="conversation-item" data-id={conversation.id}>
      <button type="button" className="conversation-open" aria-current={current} title={conversation.title} onClick={onOpen}>
        <span className="conversation-title" data-testid="conversation-title">
          {conversation.title}
        </span>
        <span className="muted small-text">
          {formatDateTime(conversation.updatedAt, i18n.language)} · {t('conversations.questions', { count: conversation.questions })}
        </span>
      </button>
      {confirmDelete ? (
        <span className="confirm-inline" data-testid="conversation-delete-confirm">
          {t('conversations.deleteQuestion')}{' '}
          <button type="button" className="small stop" data-testid="conversation-delete-yes" onClick={onDelete}>
            {t('conversations.delete')}
          </button>{' '}
          <button type="button" className="ghost small" onClick={() => setConfirmDelete(false)}>
            {t('card.cancel')}
          </button>
        </span>
      ) : (
        <span className="item-actions">
          <button
            type="button"
            className="ghost small"
            data-testid="conversation-rename"
            aria-label={t('conversations.rename')}
            title={t('conversations.rename')}
            onClick={() => setRenaming(conversation.title)}
          >
            ✎
          </button>
          <button
            type="button"
            className="ghost small"
            data-testid="conversation-delete"
            aria-label={t('conversations.delete')}
            title={t('conversations.deleteHint')}
            onClick={() => setConfirmDelete(true)}
          >
            🗑
          </button>
        </span>
      )}
    </li>
  );
}
