/** A stand-in for Electron's `process.parentPort`, for tests of the utility-process protocol. */
import type { FromEngineMessage, ParentPortLike } from '../utility.js';

export class FakeParentPort implements ParentPortLike {
  readonly sent: FromEngineMessage[] = [];
  private readonly listeners: ((messageEvent: { data: unknown }) => void)[] = [];
  private readonly waiters: { test: (message: FromEngineMessage) => boolean; resolve: (message: FromEngineMessage) => void }[] = [];

  on(_event: 'message', listener: (messageEvent: { data: unknown }) => void): this {
    this.listeners.push(listener);
    return this;
  }

  postMessage(message: unknown): void {
    // Electron structured-clones what crosses the port; so does the fake, to catch what cannot cross.
    const copy = structuredClone(message) as FromEngineMessage;
    this.sent.push(copy);
    for (const waiter of [...this.waiters]) {
      if (!waiter.test(copy)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(copy);
    }
  }

  /** What main would send. */
  deliver(data: unknown): void {
    for (const listener of this.listeners) listener({ data: structuredClone(data) });
  }

  /** The first message (already sent or still to come) that passes `test`. */
  next(test: (message: FromEngineMessage) => boolean): Promise<FromEngineMessage> {
    const sent = this.sent.find(test);
    if (sent) return Promise.resolve(sent);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** The message that ends request `id`: a result, an error, or a `done`/`error` stream event. */
  end(id: number): Promise<FromEngineMessage> {
    return this.next((message) => message.id === id && (!('event' in message) || message.event.type === 'done' || message.event.type === 'error'));
  }

  eventsOf(id: number) {
    return this.sent.flatMap((message) => (message.id === id && 'event' in message ? [message.event] : []));
  }
}
