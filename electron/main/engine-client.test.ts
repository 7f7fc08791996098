import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AskStreamEvent } from '../../shared/contract.js';
import { NpllmError } from '../../shared/errors.js';
import type { EngineRequestMessage } from '../engine/utility.js';
import { engineReloadExitCode, type EngineProcessState } from '../../shared/bridge.js';
import { EngineClient } from './engine-client.js';
import { FakeUtilityProcess } from './test/fakes.js';

function setup() {
  const children: FakeUtilityProcess[] = [];
  const client = new EngineClient(() => {
    const child = new FakeUtilityProcess();
    children.push(child);
    return child;
  });
  return { client, children };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('EngineClient', () => {
  it('spawns the engine once, on start or first use', () => {
    const { client, children } = setup();
    expect(client.running).toBe(false);
    client.start();
    client.start();
    void client.invoke('system/health', {});
    expect(children).toHaveLength(1);
    expect(client.running).toBe(true);
  });

  it('forwards a request and resolves with the matching reply', async () => {
    const { client, children } = setup();
    const first = client.invoke('interactions/list', { limit: 5 });
    const second = client.invoke('system/health', {});
    const child = children[0]!;
    const [a, b] = child.received as EngineRequestMessage[];
    expect(a).toEqual({ id: a!.id, method: 'interactions/list', request: { limit: 5 } });
    expect(b?.method).toBe('system/health');
    expect(a!.id).not.toBe(b!.id);

    child.reply({ id: b!.id, result: { status: 'ok' } });
    child.reply({ id: a!.id, result: { items: [] } });
    await expect(first).resolves.toEqual({ items: [] });
    await expect(second).resolves.toEqual({ status: 'ok' });
  });

  it('rejects with an NpllmError rebuilt from the engine error, code and fix intact', async () => {
    const { client, children } = setup();
    const pending = client.invoke('chat/ask', { question: '' });
    const child = children[0]!;
    child.reply({
      id: child.lastRequest().id,
      error: { name: 'RequestError', code: 'QUERY_EMPTY', message: 'The question is empty.', fix: 'Type a question.' },
    });
    const error = (await pending.catch((e: unknown) => e)) as NpllmError;
    expect(error).toBeInstanceOf(NpllmError);
    expect(error).toMatchObject({ name: 'RequestError', code: 'QUERY_EMPTY', fix: 'Type a question.' });
  });

  it('relays stream events until done, and cancels by id', () => {
    const { client, children } = setup();
    const events: AskStreamEvent[] = [];
    const stream = client.stream('chat/ask', { question: 'hi' }, (event) => events.push(event as AskStreamEvent));
    const child = children[0]!;
    const { id, method, stream: streaming } = child.lastRequest();
    expect({ method, streaming }).toEqual({ method: 'chat/ask', streaming: true });

    child.reply({ id, event: { type: 'token', text: 'He' } });
    child.reply({ id, event: { type: 'token', text: 'llo' } });
    stream.cancel();
    expect(child.received.at(-1)).toEqual({ id, cancel: true });
    child.reply({ id, event: { type: 'error', error: { name: 'CancelledError', code: 'CANCELLED', message: 'The request was cancelled.' } } });
    expect(events.map((event) => event.type)).toEqual(['token', 'token', 'error']);

    // Finished: late messages and cancels for that id go nowhere.
    child.reply({ id, event: { type: 'token', text: '!' } });
    stream.cancel();
    expect(events).toHaveLength(3);
    expect(child.received.filter((message) => (message as { cancel?: boolean }).cancel)).toHaveLength(1);
  });

  it('turns a plain error reply to a stream request into an error event', () => {
    const { client, children } = setup();
    const events: AskStreamEvent[] = [];
    client.stream('chat/ask', { question: 'hi' }, (event) => events.push(event as AskStreamEvent));
    const child = children[0]!;
    child.reply({ id: child.lastRequest().id, error: { name: 'NpllmError', code: 'NOT_FOUND', message: 'nope' } });
    expect(events).toEqual([{ type: 'error', error: { name: 'NpllmError', code: 'NOT_FOUND', message: 'nope' } }]);
  });

  it('fails what is pending when the engine dies, and starts a new one at once', async () => {
    const { client, children } = setup();
    const pending = client.invoke('system/health', {});
    const events: AskStreamEvent[] = [];
    client.stream('chat/ask', { question: 'hi' }, (event) => events.push(event as AskStreamEvent));
    children[0]!.emit('exit', 134);

    await expect(pending).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('exit code 134'),
      fix: expect.stringContaining('Try again'),
    });
    expect(events).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'INTERNAL' }) }]);
    expect(children).toHaveLength(2);
    expect(client.running).toBe(true);
    expect(client.restartCount).toBe(1);

    const retry = client.invoke('system/health', {});
    expect(children).toHaveLength(2);
    children[1]!.reply({ id: children[1]!.lastRequest().id, result: { status: 'ok' } });
    await expect(retry).resolves.toEqual({ status: 'ok' });
  });

  it('shutdown asks the engine to close, and resolves when it exits', async () => {
    const { client, children } = setup();
    client.start();
    const child = children[0]!;
    const done = client.shutdown(5_000);
    expect(child.received).toEqual([{ shutdown: true }]);
    child.emit('exit', 0);
    await done;
    expect(child.killed).toBe(false);
    expect(client.running).toBe(false);
    // Quitting: nothing starts the engine again.
    await expect(client.invoke('system/health', {})).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(children).toHaveLength(1);
  });

  it('shutdown kills an engine that does not exit in time', async () => {
    vi.useFakeTimers();
    const { client, children } = setup();
    const pending = expect(client.invoke('system/health', {})).rejects.toMatchObject({ code: 'CANCELLED' });
    const done = client.shutdown(5_000);
    await vi.advanceTimersByTimeAsync(5_000);
    await done;
    expect(children[0]!.killed).toBe(true);
    expect(client.running).toBe(false);
    await pending;
  });

  it('shutdown without an engine does nothing', async () => {
    const { client, children } = setup();
    await client.shutdown(5_000);
    expect(children).toHaveLength(0);
  });

  it('says why it restarts: a crash, or the engine asking to apply settings (exit code 75)', () => {
    const children: FakeUtilityProcess[] = [];
    const states: EngineProcessState[] = [];
    const client = new EngineClient(
      () => {
        const child = new FakeUtilityProcess();
        children.push(child);
        return child;
      },
      { onState: (state) => states.push(state) },
    );
    client.start();
    children[0]!.emit('exit', engineReloadExitCode);
    children[1]!.emit('exit', 1);
    expect(states).toEqual([
      { state: 'restarting', reason: 'reload', exitCode: 75, restarts: 1 },
      { state: 'running', reason: 'reload', exitCode: 75, restarts: 1 },
      { state: 'restarting', reason: 'crashed', exitCode: 1, restarts: 2 },
      { state: 'running', reason: 'crashed', exitCode: 1, restarts: 2 },
    ]);
    expect(children).toHaveLength(3);
  });

  it('stops restarting an engine that keeps crashing; the next request tries again, and says so', () => {
    const children: FakeUtilityProcess[] = [];
    const states: EngineProcessState[] = [];
    let now = 0;
    const client = new EngineClient(
      () => {
        const child = new FakeUtilityProcess();
        children.push(child);
        return child;
      },
      { now: () => now, onState: (state) => states.push(state) },
    );
    client.start();
    for (let crash = 0; crash < 6; crash++) {
      now += 1_000;
      children.at(-1)!.emit('exit', 1);
    }
    // Five restarts within the minute, then none.
    expect(children).toHaveLength(6);
    expect(client.running).toBe(false);
    void client.invoke('system/health', {}).catch(() => undefined);
    expect(children).toHaveLength(7);
    expect(states.at(-1)).toEqual({ state: 'running', reason: 'crashed', exitCode: 1, restarts: 6 });
  });

  it('an old process exiting after a restart changes nothing', () => {
    const { client, children } = setup();
    client.start();
    children[0]!.emit('exit', 1);
    children[0]!.emit('exit', 1);
    expect(children).toHaveLength(2);
    expect(client.restartCount).toBe(1);
  });
});
