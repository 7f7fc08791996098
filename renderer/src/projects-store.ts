/**
 * Projects, outside React so it is tested without rendering: the known projects (`projects/list`),
 * the one the chat is scoped to, the context card of a folder being added (detected stacks, as
 * the person edits them), and the indexing that runs in the background once a context is
 * confirmed — while the chat goes on.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ContextProposal, DetectedStack, IndexResult, Progress, ProjectSummary } from '../../shared/contract.js';
import { toNpllmError, type NpllmError, type SerializedError } from '../../shared/errors.js';
import { uiError } from './ui-error.js';
import type { Transport } from './transport.js';

/** A stack on the context card: detected ones keep their evidence; added ones have none. */
export interface CardStack {
  name: string;
  version: string;
  confidence: number | null;
  evidence: string[];
}

export interface ContextCard {
  root: string;
  /** The detection as it came, for the card's "detected" column and to tell an edit. */
  proposal: ContextProposal;
  stacks: CardStack[];
  confirming: boolean;
  error: SerializedError | null;
}

export interface Indexing {
  progress: Progress | null;
  result: IndexResult | null;
  error: SerializedError | null;
}

export interface ProjectsState {
  projects: ProjectSummary[];
  listError: SerializedError | null;
  /** The project the chat is scoped to; null: questions without a project. */
  selected: string | null;
  /** The path field's text, kept while the person edits, and after a failure. */
  path: string;
  /** Detecting a folder's stacks. */
  detecting: boolean;
  /** A folder that could not be opened (not found, a file, outside the allowed roots…). */
  pathError: SerializedError | null;
  card: ContextCard | null;
  /** Background indexing, by project root. */
  indexing: Record<string, Indexing>;
  setPath: (path: string) => void;
  /** Detects the stacks of the folder in the path field (or `path`) and opens its context card. */
  open: (path?: string) => Promise<void>;
  /** A failure found before asking the engine (a drop of several folders, of a file in a browser). */
  fail: (error: SerializedError) => void;
  editStack: (index: number, change: Partial<Pick<CardStack, 'name' | 'version'>>) => void;
  removeStack: (index: number) => void;
  addStack: () => void;
  closeCard: () => void;
  /** Saves the card's stacks as the project's context, selects it and starts indexing it. */
  confirm: () => Promise<void>;
  select: (root: string | null) => void;
  refresh: () => Promise<void>;
  /** Indexes a project in the background (again: only what changed). */
  index: (root: string) => Promise<void>;
}

export type ProjectsStore = StoreApi<ProjectsState>;

/** Where the selected project is remembered (the quick-question window follows it there). */
export const selectedProjectKey = 'npllm.project';

export interface ProjectsStoreOptions {
  /** Where the selected project is remembered across reloads (localStorage in the app). */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined;
}

export function createProjectsStore(transport: Pick<Transport, 'invoke' | 'stream'>, options: ProjectsStoreOptions = {}): ProjectsStore {
  const storage = options.storage;
  const running = new Map<string, Promise<void>>();

  return createStore<ProjectsState>()((set, get) => {
    const setIndexing = (root: string, change: Partial<Indexing>) =>
      set(({ indexing }) => ({ indexing: { ...indexing, [root]: { progress: null, result: null, error: null, ...indexing[root], ...change } } }));

    return {
      projects: [],
      listError: null,
      selected: storage?.getItem(selectedProjectKey) ?? null,
      path: '',
      detecting: false,
      pathError: null,
      card: null,
      indexing: {},

      setPath: (path) => set({ path, pathError: null }),

      async open(path) {
        const folder = (path ?? get().path).trim();
        if (!folder) return;
        set({ path: folder, detecting: true, pathError: null, card: null });
        try {
          const proposal = await transport.invoke('context/detect', { path: folder });
          const stacks = proposal.stacks.map(toCardStack);
          set({ card: { root: proposal.root, proposal, stacks, confirming: false, error: null } });
        } catch (failure) {
          set({ pathError: toNpllmError(failure).toJSON() });
        } finally {
          set({ detecting: false });
        }
      },

      fail: (error) => set({ pathError: error, card: null }),

      editStack: (index, change) => updateCard(set, (card) => ({ stacks: card.stacks.map((stack, at) => (at === index ? { ...stack, ...change } : stack)) })),
      removeStack: (index) => updateCard(set, (card) => ({ stacks: card.stacks.filter((_, at) => at !== index) })),
      addStack: () => updateCard(set, (card) => ({ stacks: [...card.stacks, { name: '', version: '', confidence: null, evidence: [] }] })),
      closeCard: () => set({ card: null }),

      async confirm() {
        const card = get().card;
        if (!card || card.confirming) return;
        const stacks = card.stacks
          .map((stack) => ({ name: stack.name.trim().toLowerCase(), version: stack.version.trim() || null }))
          .filter((stack) => stack.name !== '');
        updateCard(set, () => ({ confirming: true, error: null }));
        try {
          await transport.invoke('context/confirm', { path: card.root, stacks });
        } catch (failure) {
          updateCard(set, () => ({ confirming: false, error: toNpllmError(failure).toJSON() }));
          return;
        }
        set({ card: null, path: '' });
        get().select(card.root);
        await get().refresh();
        await get().index(card.root);
      },

      select(root) {
        if (root) storage?.setItem(selectedProjectKey, root);
        else storage?.removeItem(selectedProjectKey);
        set({ selected: root });
      },

      async refresh() {
        try {
          const { items } = await transport.invoke('projects/list', {}, { askForKey: false });
          set({ projects: items, listError: null });
        } catch (failure) {
          set({ listError: toNpllmError(failure).toJSON() });
        }
      },

      index(root) {
        const already = running.get(root);
        if (already) return already;
        setIndexing(root, { progress: { task: 'project-index', label: '', fraction: null, done: false }, result: null, error: null });
        const work = (async () => {
          try {
            const result = await transport.stream('rag/index', { path: root }, { onProgress: (progress) => setIndexing(root, { progress }) });
            setIndexing(root, { progress: null, result });
          } catch (failure) {
            setIndexing(root, { progress: null, error: toNpllmError(failure).toJSON() });
          } finally {
            running.delete(root);
            await get().refresh();
          }
        })();
        running.set(root, work);
        return work;
      },
    };
  });
}

function toCardStack(stack: DetectedStack): CardStack {
  return { name: stack.name, version: stack.version ?? '', confidence: stack.confidence, evidence: stack.evidence };
}

function updateCard(set: ProjectsStore['setState'], change: (card: ContextCard) => Partial<ContextCard>): void {
  set(({ card }) => (card ? { card: { ...card, ...change(card) } } : {}));
}

/**
 * What a drop carries, as a folder path or the reason there is none. The desktop resolves a dropped
 * folder to its path (`pathForFile`); a browser hides paths, but a file manager's drag also carries
 * `text/uri-list` (file:// URIs), which is used when present.
 */
export function droppedPath(data: Pick<DataTransfer, 'files' | 'getData'>, pathForFile?: (file: File) => string): { path: string } | { error: NpllmError } {
  const uris = (data.getData('text/uri-list') || '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const files = [...data.files];
  const count = Math.max(uris.length, files.length);
  if (count > 1) return { error: uiError('drop.several', 'drop.severalFix') };
  if (files[0] && pathForFile) {
    const path = pathForFile(files[0]);
    if (path) return { path };
  }
  const uri = uris[0];
  if (uri?.startsWith('file://')) return { path: decodeURIComponent(new URL(uri).pathname) };
  const text = data.getData('text/plain').trim();
  if (text.startsWith('/') || /^[A-Za-z]:\\/.test(text)) return { path: text };
  return { error: uiError('drop.noPath', 'drop.noPathFix') };
}
