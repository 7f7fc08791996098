import { describe, expect, it, vi } from 'vitest';
import type { ContextProposal, IndexResult, Progress, ProjectSummary } from '../../shared/contract.js';
import { NpllmError } from '../../shared/errors.js';
import { createProjectsStore, droppedPath } from './projects-store.js';
import type { StreamHooks, Transport } from './transport.js';

const proposal: ContextProposal = {
  root: '/home/someone/shop',
  stacks: [
    { name: 'django', version: '4.2', confidence: 0.96, evidence: ['pyproject.toml: django >=4.2'] },
    { name: 'python', version: null, confidence: 0.92, evidence: ['2 .py files'] },
  ],
  scannedFiles: 3,
  truncated: false,
  elapsedMs: 4,
  extensions: { '.py': 2 },
};
const indexed: IndexResult = {
  root: proposal.root,
  projectId: 'p',
  files: 3,
  chunks: 9,
  changedFiles: 3,
  unchangedFiles: 0,
  removedFiles: 0,
  embeddedChunks: 9,
  skipped: {},
  secretsSkipped: 0,
  seconds: 1,
};

function fakeTransport(detect: () => Promise<ContextProposal> = () => Promise.resolve(proposal)) {
  const calls: { method: string; request: unknown }[] = [];
  let finishIndex: (result: IndexResult) => void = () => undefined;
  let indexHooks: StreamHooks = {};
  const projects: ProjectSummary[] = [];
  const transport: Pick<Transport, 'invoke' | 'stream'> = {
    invoke: vi.fn((method: string, request: unknown) => {
      calls.push({ method, request });
      if (method === 'context/detect') return detect();
      if (method === 'context/confirm') return Promise.resolve({});
      if (method === 'projects/list') return Promise.resolve({ items: projects });
      return Promise.reject(new Error(`unexpected ${method}`));
    }) as unknown as Transport['invoke'],
    stream: vi.fn((method: string, request: unknown, hooks: StreamHooks = {}) => {
      calls.push({ method, request });
      indexHooks = hooks;
      return new Promise((resolve) => (finishIndex = resolve as (result: IndexResult) => void));
    }) as unknown as Transport['stream'],
  };
  return { transport, calls, finish: (result: IndexResult) => finishIndex(result), progress: (progress: Progress) => indexHooks.onProgress?.(progress) };
}

describe('projects store', () => {
  it('opens the typed folder as a context card with the detected stacks', async () => {
    const fake = fakeTransport();
    const store = createProjectsStore(fake.transport);
    store.getState().setPath('  /home/someone/shop ');
    await store.getState().open();
    expect(fake.calls[0]).toEqual({ method: 'context/detect', request: { path: '/home/someone/shop' } });
    expect(store.getState().card?.stacks).toEqual([
      { name: 'django', version: '4.2', confidence: 0.96, evidence: ['pyproject.toml: django >=4.2'] },
      { name: 'python', version: '', confidence: 0.92, evidence: ['2 .py files'] },
    ]);
  });

  it("keeps the typed path and shows the engine's error when the folder cannot be read", async () => {
    const fake = fakeTransport(() =>
      Promise.reject(new NpllmError('NOT_FOUND', 'The project folder /nope does not exist.', { fix: 'Pass the path of an existing folder.' })),
    );
    const store = createProjectsStore(fake.transport);
    store.getState().setPath('/nope');
    await store.getState().open();
    expect(store.getState()).toMatchObject({ path: '/nope', card: null, pathError: { code: 'NOT_FOUND', fix: 'Pass the path of an existing folder.' } });
  });

  it('confirms the edited stacks, selects the project and indexes it in the background with progress', async () => {
    const fake = fakeTransport();
    const storage = new Map<string, string>();
    const store = createProjectsStore(fake.transport, {
      storage: {
        getItem: (key) => storage.get(key) ?? null,
        setItem: (key, value) => void storage.set(key, value),
        removeItem: (key) => void storage.delete(key),
      },
    });
    await store.getState().open('/home/someone/shop');
    store.getState().editStack(0, { version: '5.0' });
    store.getState().removeStack(1);
    store.getState().addStack();
    store.getState().editStack(1, { name: ' Celery ' });
    store.getState().addStack();
    const confirmed = store.getState().confirm();
    await vi.waitFor(() => expect(fake.calls.map((call) => call.method)).toContain('rag/index'));
    expect(fake.calls.find((call) => call.method === 'context/confirm')?.request).toEqual({
      path: proposal.root,
      stacks: [
        { name: 'django', version: '5.0' },
        { name: 'celery', version: null },
      ],
    });
    expect(store.getState()).toMatchObject({ card: null, selected: proposal.root });
    expect(storage.get('npllm.project')).toBe(proposal.root);

    fake.progress({ task: 'project-index', label: 'Indexing: 1/3', fraction: 0.33, done: false });
    expect(store.getState().indexing[proposal.root]?.progress?.label).toBe('Indexing: 1/3');
    // A second request for the same folder joins the running one.
    void store.getState().index(proposal.root);
    expect(fake.calls.filter((call) => call.method === 'rag/index')).toHaveLength(1);
    fake.finish(indexed);
    await confirmed;
    expect(store.getState().indexing[proposal.root]).toMatchObject({ progress: null, result: { chunks: 9 }, error: null });
  });
});

describe('droppedPath', () => {
  const transfer = (data: Record<string, string>, files: File[] = []) => ({ files: files as unknown as FileList, getData: (type: string) => data[type] ?? '' });

  it("takes a folder from a file manager's file:// URI, decoded", () => {
    expect(droppedPath(transfer({ 'text/uri-list': 'file:///home/someone/my%20shop\r\n' }))).toEqual({ path: '/home/someone/my shop' });
  });

  it("asks the desktop for a dropped file's path", () => {
    const file = new File(['x'], 'shop');
    expect(droppedPath(transfer({}, [file]), (dropped) => (dropped === file ? '/home/someone/shop' : ''))).toEqual({ path: '/home/someone/shop' });
  });

  it('refuses several items, and a file whose path the browser hides', () => {
    const several = droppedPath(transfer({ 'text/uri-list': 'file:///a\nfile:///b' }));
    expect('error' in several && several.error.message).toBe('drop.several');
    const hidden = droppedPath(transfer({}, [new File(['x'], 'shop.zip')]));
    expect('error' in hidden && hidden.error.toJSON()).toMatchObject({ message: 'drop.noPath', fix: 'drop.noPathFix', details: { i18n: true } });
  });
});
