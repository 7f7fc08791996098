import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { createLearningStore } from './learning-store.js';
import { createChatStore } from './store.js';
import { createTransport } from './transport.js';
import './styles.css';

const transport = createTransport();
const store = createChatStore(transport);
const learning = createLearningStore(transport);
const root = document.getElementById('root');
if (!root) throw new Error('index.html lost its #root element.');

createRoot(root).render(
  <StrictMode>
    <App store={store} onFocusRequest={transport.onFocusInput} learning={learning} />
  </StrictMode>,
);
