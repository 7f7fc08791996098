import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import type { UiLanguage, UiTheme } from '../../shared/contract.js';
import { ApiKeyDialog } from './ApiKeyDialog.js';
import { App } from './App.js';
import { createI18n, resolveLanguage } from './i18n.js';
import { createLearningStore } from './learning-store.js';
import { createProjectsStore } from './projects-store.js';
import { QuickApp } from './Quick.js';
import { createChatStore } from './store.js';
import { browserApiKeys, createTransport } from './transport.js';
import 'highlight.js/styles/github.css';
import './styles.css';

/** The UI choices are also kept in the page, so the first frame is already in the right language and theme. */
const uiKey = 'npllm.ui';
const saved = JSON.parse(window.localStorage.getItem(uiKey) ?? '{}') as { language?: UiLanguage; theme?: UiTheme };
const i18n = createI18n(resolveLanguage(saved.language, navigator.languages));

function applyUi(ui: { language?: UiLanguage; theme?: UiTheme }): void {
  Object.assign(saved, ui);
  window.localStorage.setItem(uiKey, JSON.stringify(saved));
  if (ui.language) void i18n.changeLanguage(resolveLanguage(ui.language, navigator.languages));
  if (ui.theme) document.documentElement.dataset['theme'] = ui.theme;
}
applyUi({ theme: saved.theme ?? 'system' });
i18n.on('languageChanged', (language) => (document.documentElement.lang = language));
document.documentElement.lang = i18n.language;

const apiKeys = window.npllm ? undefined : browserApiKeys();
const transport = createTransport(apiKeys);
const bridge = window.npllm;
const projects = createProjectsStore(transport, { storage: window.localStorage });
const store = createChatStore(transport, { project: projects.getState().selected });
const root = document.getElementById('root');
if (!root) throw new Error('index.html lost its #root element.');

// The engine's saved settings win over what this page remembered (another window may have changed them).
transport.invoke('settings/get', {}, { askForKey: false }).then(
  (settings) => applyUi(settings.values.ui),
  () => undefined,
);

const quick = new URLSearchParams(window.location.search).get('view') === 'quick';

createRoot(root).render(
  <StrictMode>
    <I18nextProvider i18n={i18n}>
      {quick ? (
        <QuickApp store={store} onFocusRequest={transport.onFocusInput} openInMain={bridge ? (id) => bridge.openInMain(id) : undefined} />
      ) : (
        <App
          store={store}
          onFocusRequest={transport.onFocusInput}
          learning={createLearningStore(transport)}
          projects={projects}
          transport={transport}
          apiKeys={apiKeys}
          desktop={
            bridge
              ? {
                  pathForFile: (file) => bridge.pathForFile(file),
                  pickFolder: () => bridge.pickFolder(),
                  onEngineState: (listener) => bridge.onEngineState(listener),
                  onOpenConversation: (listener) => bridge.onOpenConversation(listener),
                }
              : undefined
          }
          onUiChange={applyUi}
        />
      )}
      {apiKeys && <ApiKeyDialog keys={apiKeys} />}
    </I18nextProvider>
  </StrictMode>,
);
