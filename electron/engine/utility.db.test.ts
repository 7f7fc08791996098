import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Health } from '../../shared/contract.js';
import { Engine } from './engine.js';
import { fixtureModelsDir, tempHome, testConfig, type TempHome } from './test/support.js';
import { serveEngineOverPort, startUtilityProcess, type EnginePortServer } from './utility.js';
import { FakeParentPort } from './test/fake-parent-port.js';

describe('utility process protocol (real engine, PGlite)', () => {
  let home: TempHome;
  let server: EnginePortServer | undefined;

  afterEach(async () => {
    await server?.shutdown();
    server = undefined;
    home.cleanup();
  });

  function serve(port: FakeParentPort, onShutdown = vi.fn(), warn = vi.fn()) {
    home = tempHome();
    server = serveEngineOverPort(port, Engine.open(testConfig(home.home)), { onShutdown, warn });
    return { onShutdown, warn };
  }

  it('answers a contract method with { id, result }', async () => {
    const port = new FakeParentPort();
    serve(port);
    port.deliver({ id: 1, method: 'system/health', request: {} });
    const reply = await port.end(1);
    expect(reply).toMatchObject({ id: 1, result: { status: 'ok', database: { kind: 'pglite', ok: true }, model: { loaded: false } } });

    port.deliver({ id: 2, method: 'interactions/list', request: {} });
    expect(await port.end(2)).toEqual({ id: 2, result: { items: [] } });
  });

  it('answers failures with { id, error } carrying code and fix', async () => {
    const port = new FakeParentPort();
    serve(port);
    port.deliver({ id: 1, method: 'chat/ask', request: { question: '   ' } });
    port.deliver({ id: 2, method: 'interactions/get', request: { id: 42 } });
    port.deliver({ id: 3, method: 'files/delete', request: {} });

    expect(await port.end(1)).toMatchObject({ id: 1, error: { code: 'QUERY_EMPTY', fix: expect.any(String) } });
    expect(await port.end(2)).toMatchObject({ id: 2, error: { code: 'REQUEST_INVALID', message: expect.stringContaining('id') } });
    expect(await port.end(3)).toMatchObject({ id: 3, error: { code: 'NOT_FOUND', message: expect.stringContaining('files/delete') } });
  });

  it('ends a stream that fails before generating with an error event', async () => {
    const port = new FakeParentPort();
    serve(port);
    port.deliver({ id: 7, method: 'chat/ask', request: { question: '' }, stream: true });
    expect(await port.end(7)).toMatchObject({ id: 7, event: { type: 'error', error: { code: 'QUERY_EMPTY' } } });
  });

  it('reports messages it cannot answer instead of replying', async () => {
    const port = new FakeParentPort();
    const { warn } = serve(port);
    port.deliver('hello');
    port.deliver({ method: 'system/health' });
    port.deliver({ id: 1, method: 'system/health', request: {} });
    await port.end(1);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(port.sent).toHaveLength(1);
  });

  it('on { shutdown: true } closes the engine, then calls onShutdown', async () => {
    const port = new FakeParentPort();
    const { onShutdown } = serve(port);
    port.deliver({ id: 1, method: 'system/health', request: {} });
    await port.end(1);
    const lockFile = `${join(home.home, 'db')}.lock`;
    expect(existsSync(lockFile)).toBe(true);

    port.deliver({ shutdown: true });
    await vi.waitFor(() => expect(onShutdown).toHaveBeenCalledOnce());
    // Disposing released the database lock, so the next start of the app can open it.
    expect(existsSync(lockFile)).toBe(false);

    port.deliver({ id: 2, method: 'system/health', request: {} });
    expect(await port.end(2)).toMatchObject({ id: 2, error: { code: 'CANCELLED' } });
  });
});

describe('startUtilityProcess', () => {
  it('builds the config from the environment main passes (NPLLM_HOME)', async () => {
    const home = tempHome();
    try {
      const port = new FakeParentPort();
      const server = startUtilityProcess(port, { NPLLM_HOME: home.home, NPLLM_MODELS_DIR: fixtureModelsDir, NPLLM_LOG_LEVEL: 'silent' });
      port.deliver({ id: 1, method: 'system/health', request: {} });
      const reply = await port.end(1);
      expect(reply).toMatchObject({ id: 1, result: { status: 'ok' } });
      // The desktop answers with the catalogue's default model.
      expect((reply as { result: Health }).result.model.name).toBe('qwen2.5-coder-1.5b-instruct-q4_k_m');
      expect(existsSync(join(home.home, 'db'))).toBe(true);
      await server.shutdown();
    } finally {
      home.cleanup();
    }
  });

  it('answers every request with the start-up failure when the engine cannot open', async () => {
    const home = tempHome();
    const stderr = vi.spyOn(process.stderr, 'write').mockReturnValue(true);
    try {
      const notAFolder = join(home.home, 'file');
      writeFileSync(notAFolder, '');
      const port = new FakeParentPort();
      startUtilityProcess(port, { NPLLM_HOME: notAFolder, NPLLM_LOG_LEVEL: 'silent' });
      port.deliver({ id: 1, method: 'system/health', request: {} });
      port.deliver({ id: 2, method: 'chat/ask', request: { question: 'hi' }, stream: true });
      expect(await port.end(1)).toMatchObject({ id: 1, error: { code: 'DATA_DIR_UNWRITABLE', fix: expect.stringContaining('NPLLM_HOME') } });
      expect(await port.end(2)).toMatchObject({ id: 2, event: { type: 'error', error: { code: 'DATA_DIR_UNWRITABLE' } } });
      expect(stderr).toHaveBeenCalledWith(expect.stringContaining('engine could not start'));
    } finally {
      stderr.mockRestore();
      home.cleanup();
    }
  });
});
