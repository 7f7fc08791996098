/**
 * The window: projects and conversations on the side; the chat, the learning and behaviour
 * dashboards and the settings as tabs; the status strip; a folder dropped anywhere opens its
 * context card.
 */
import { useEffect, useRef, useState, type DragEvent } from 'react';
import { useStore } from 'zustand';
import { useTranslation } from 'react-i18next';
import type { EngineProcessState } from '../../shared/bridge.js';
import type { ProjectSummary, UiLanguage, UiTheme } from '../../shared/contract.js';
import { BehaviourView } from './Behaviour.js';
import { ChatView } from './Chat.js';
import { ConversationPanel } from './Conversations.js';
import { watchPage } from './dwell.js';
import { HealthStrip } from './Health.js';
import { LearningView } from './Learning.js';
import type { LearningStore } from './learning-store.js';
import { ContextCardView, ProjectPanel } from './Projects.js';
import { droppedPath, type ProjectsStore } from './projects-store.js';
import { errorText } from './ui-error.js';
import { SettingsView } from './Settings.js';
import type { ChatStore } from './store.js';
import type { ApiKeyStore, Transport } from './transport.js';

export interface DesktopHooks {
  pathForFile?: ((file: File) => string) | undefined;
  pickFolder?: (() => Promise<string | null>) | undefined;
  onEngineState?: ((listener: (state: EngineProcessState) => void) => () => void) | undefined;
  onOpenConversation?: ((listener: (conversationId: string) => void) => () => void) | undefined;
}

export interface AppProps {
  store: ChatStore;
  /** Subscribes to main's "focus the question box" (tray quick question); desktop only. */
  onFocusRequest?: ((listener: () => void) => () => void) | undefined;
  /** The learning dashboard's state; without it there is no Learning tab. */
  learning?: LearningStore | undefined;
  /** Projects and their context; without it the chat has no project side. */
  projects?: ProjectsStore | undefined;
  /** For the dashboards and settings that call the engine directly. */
  transport?: Transport | undefined;
  apiKeys?: ApiKeyStore | undefined;
  desktop?: DesktopHooks | undefined;
  onUiChange?: ((ui: { language?: UiLanguage; theme?: UiTheme }) => void) | undefined;
}

type View = 'chat' | 'learning' | 'behaviour' | 'settings';

/** How often the status strip asks the engine how it is. */
export const healthPollMs = 4000;

export function App({ store, onFocusRequest, learning, projects, transport, apiKeys, desktop, onUiChange }: AppProps) {
  const { t } = useTranslation();
  const [view, setView] = useState<View>('chat');
  const [dragging, setDragging] = useState(false);
  const [engineProcess, setEngineProcess] = useState<EngineProcessState | null>(null);
  const { refreshHealth, setPageActive, leave, setProject, openConversation, refreshConversations } = store.getState();
  const input = useRef<HTMLTextAreaElement>(null);
  const selected = useStore(projects ?? emptyProjects, (state) => (projects ? state.selected : null));
  const projectList = useStore(projects ?? emptyProjects, (state) => (projects ? state.projects : noProjects));

  // The status strip follows the engine: it can die, restart, load a model or start learning at any time.
  useEffect(() => {
    void refreshHealth();
    const timer = setInterval(() => void refreshHealth(), healthPollMs);
    return () => clearInterval(timer);
  }, [refreshHealth]);

  useEffect(() => {
    if (!projects) {
      void refreshConversations();
      return;
    }
    const { refresh } = projects.getState();
    void refreshConversations();
    void refresh().then(() => {
      // A confirmed project whose first indexing never finished (the page was closed meanwhile) carries on.
      const project = projects.getState().projects.find((each) => each.root === projects.getState().selected);
      if (project?.confirmed && !project.index.lastIndexedAt) void projects.getState().index(project.root);
    });
    // Learning state changes in the background: the list follows it slowly.
    const timer = setInterval(() => void projects.getState().refresh(), healthPollMs * 4);
    return () => clearInterval(timer);
  }, [projects, setProject, refreshConversations]);

  // The chat follows the selected project (picked in the list, or just confirmed).
  useEffect(() => {
    if (projects) setProject(selected);
  }, [projects, selected, setProject]);

  useEffect(() => desktop?.onEngineState?.((state) => setEngineProcess(state)), [desktop]);
  useEffect(
    () =>
      desktop?.onOpenConversation?.((id) => {
        setView('chat');
        void openConversation(id);
      }),
    [desktop, openConversation],
  );

  useEffect(
    () =>
      onFocusRequest?.(() => {
        // The tray's quick question wants the question box, whichever view is open.
        setView('chat');
        input.current?.focus();
      }),
    [onFocusRequest],
  );

  // Dwell counts only while the window is visible and focused, and is sent when the page goes.
  useEffect(() => watchPage({ onActive: setPageActive, onLeave: leave }), [setPageActive, leave]);

  const select = (root: string | null) => {
    projects?.getState().select(root);
    setView('chat');
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    if (!projects) return;
    const dropped = droppedPath(event.dataTransfer, desktop?.pathForFile);
    if ('error' in dropped) projects.getState().fail(dropped.error.toJSON());
    else void projects.getState().open(dropped.path);
  };

  const tabs: { id: View; label: string; testId: string }[] = [
    { id: 'chat', label: t('tabs.chat'), testId: 'chat-tab' },
    ...(learning ? [{ id: 'learning' as const, label: t('tabs.learning'), testId: 'learning-tab' }] : []),
    ...(transport ? [{ id: 'behaviour' as const, label: t('tabs.behaviour'), testId: 'behaviour-tab' }] : []),
    ...(transport ? [{ id: 'settings' as const, label: t('tabs.settings'), testId: 'settings' }] : []),
  ];
  const selectedName = projectList.find((project) => project.root === selected)?.name ?? null;

  return (
    <div
      className={`app${projects ? ' with-sidebar' : ''}${dragging ? ' dragging' : ''}`}
      onDragOver={(event) => {
        if (!projects) return;
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(event) => {
        if (event.currentTarget === event.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      {projects && (
        <aside className="sidebar">
          <span className="brand">npllm</span>
          <ProjectPanel store={projects} pickFolder={desktop?.pickFolder} onSelect={select} />
          <ConversationPanel store={store} onOpened={() => setView('chat')} />
        </aside>
      )}
      <div className="main-column">
        <header className="topbar">
          {!projects && <span className="brand">npllm</span>}
          <nav className="tabs" role="tablist" aria-label={t('tabs.label')}>
            {tabs.map((tab) => (
              <button
                key={tab.id}
                type="button"
                role="tab"
                className="ghost small"
                aria-selected={view === tab.id}
                data-testid={tab.testId}
                onClick={() => setView(tab.id)}
              >
                {tab.label}
              </button>
            ))}
          </nav>
          <HealthStrip store={store} engineProcess={engineProcess} />
          {!projects && view === 'chat' && <NewChatButton store={store} />}
        </header>
        {dragging && <div className="drop-overlay">{t('projects.dropHere')}</div>}
        {projects && <ContextCardView store={projects} />}
        {projects && <IndexBanner store={projects} />}
        <ChatView store={store} input={input} hidden={view !== 'chat'} />
        {view === 'learning' && learning && <LearningView store={learning} transport={transport} project={selected} />}
        {view === 'behaviour' && transport && <BehaviourView transport={transport} project={selected} projectName={selectedName} />}
        {view === 'settings' && transport && (
          <SettingsView transport={transport} apiKeys={apiKeys} onUiChange={(ui) => onUiChange?.(ui)} onReloading={() => void refreshHealth()} />
        )}
      </div>
    </div>
  );
}

const noProjects: ProjectSummary[] = [];
const emptyProjects = {
  getState: () => ({}),
  subscribe: () => () => undefined,
  getInitialState: () => ({}),
  setState: () => undefined,
} as unknown as ProjectsStore;

function NewChatButton({ store }: { store: ChatStore }) {
  const { t } = useTranslation();
  const turns = useStore(store, (state) => state.turns.length);
  const busy = useStore(store, (state) => state.busy);
  return (
    <button type="button" className="ghost" data-testid="new-chat" onClick={() => store.getState().newChat()} disabled={turns === 0 && !busy}>
      {t('conversations.new')}
    </button>
  );
}

/** Indexing in the background: how far it is, and how it ended. */
function IndexBanner({ store }: { store: ProjectsStore }) {
  const { t } = useTranslation();
  const indexing = useStore(store, (state) => state.indexing);
  const entries = Object.entries(indexing).filter(([, each]) => each.progress || each.error);
  if (entries.length === 0) return null;
  return (
    <div className="index-banner" data-testid="index-progress">
      {entries.map(([root, each]) => {
        const failure = each.error ? errorText(each.error, t) : null;
        return (
          <div key={root} className={failure ? 'error' : 'progress'} data-root={root} data-state={failure ? 'failed' : 'running'}>
            <span>
              {root.split(/[\\/]/).pop()}: {failure ? t('index.failed', { message: failure.message }) : each.progress?.label || t('index.starting')}
            </span>
            {each.progress && (each.progress.fraction === null ? <progress /> : <progress max={1} value={each.progress.fraction} />)}
            {failure?.fix && <span className="muted"> {failure.fix}</span>}
          </div>
        );
      })}
    </div>
  );
}
