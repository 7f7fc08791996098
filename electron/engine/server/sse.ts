import type { ServerResponse } from 'node:http';

export interface EventStream {
  /** True once the 200 and the first event went out; before that an error can still be a 4xx. */
  readonly started: boolean;
  send(data: unknown): void;
  end(): void;
}

/**
 * Server-sent events, one `data:` line of JSON per event, flushed immediately. Headers are sent
 * with the first event, so a request rejected before producing anything still gets its status.
 */
export function openEventStream(response: ServerResponse): EventStream {
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
  };
  return {
    get started() {
      return started;
    },
    send(data) {
      start();
      if (!response.writableEnded && !response.destroyed) response.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    },
    end() {
      start();
      if (!response.writableEnded) response.end();
    },
  };
}
