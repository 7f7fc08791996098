/** The tray's quick-question window: a small always-on-top chat in the current project, and a way into the main window. */
import { useEffect, useRef } from 'react';
import { useStore } from 'zustand';
import { useTranslation } from 'react-i18next';
import { ChatView } from './Chat.js';
import { selectedProjectKey } from './projects-store.js';
import type { ChatStore } from './store.js';

export function QuickApp({
  store,
  onFocusRequest,
  openInMain,
}: {
  store: ChatStore;
  onFocusRequest?: ((listener: () => void) => () => void) | undefined;
  openInMain?: ((conversationId: string | null) => void) | undefined;
}) {
  const { t } = useTranslation();
  const input = useRef<HTMLTextAreaElement>(null);
  const turns = useStore(store, (state) => state.turns.length);
  const project = useStore(store, (state) => state.project);
  useEffect(() => onFocusRequest?.(() => input.current?.focus()), [onFocusRequest]);
  // The main window picks the project; this window follows it (both keep it in localStorage).
  useEffect(() => {
    const follow = (event: StorageEvent) => {
      if (event.key === selectedProjectKey) store.getState().setProject(event.newValue);
    };
    window.addEventListener('storage', follow);
    return () => window.removeEventListener('storage', follow);
  }, [store]);
  return (
    <div className="app quick" data-testid="quick-window">
      <header className="topbar">
        <span className="brand">{t('quick.title')}</span>
        <span className="muted" title={project ?? undefined}>
          {project ? project.split(/[\\/]/).pop() : t('projects.none')}
        </span>
        <span className="spacer" />
        {openInMain && (
          <button
            type="button"
            className="ghost small"
            data-testid="open-in-main"
            disabled={turns === 0}
            onClick={() => openInMain(store.getState().conversationId)}
          >
            {t('quick.openInMain')}
          </button>
        )}
      </header>
      <ChatView store={store} input={input} hidden={false} compact />
    </div>
  );
}
