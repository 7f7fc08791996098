/**
 * Keeps an index fresh: file events (inotify/FSEvents through fs.watch) trigger an incremental
 * re-index after a quiet period. Where events are unavailable (too many folders for the inotify
 * limit, network file systems) it falls back to polling, which the size/mtime comparison makes
 * cheap.
 */
import { watch, type FSWatcher } from 'node:fs';

export interface WatchOptions {
  /** Quiet time after the last event before re-indexing. */
  debounceMs: number;
  /** Re-index period when file events are unavailable. */
  pollMs: number;
  signal: AbortSignal;
  onFallback?: (reason: string) => void;
}

/** Calls `reindex` after changes until the signal aborts; never runs two re-indexes at once. */
export function watchProject(root: string, reindex: () => Promise<void>, options: WatchOptions): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    let again = false;
    let watcher: FSWatcher | undefined;
    let poller: NodeJS.Timeout | undefined;

    const run = () => {
      if (running) {
        again = true;
        return;
      }
      running = reindex().finally(() => {
        running = undefined;
        if (again && !options.signal.aborted) {
          again = false;
          run();
        }
      });
    };
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(run, options.debounceMs);
    };
    const poll = (reason: string) => {
      watcher?.close();
      options.onFallback?.(reason);
      poller ??= setInterval(run, options.pollMs);
    };

    try {
      watcher = watch(root, { recursive: true }, schedule);
      watcher.on('error', (error) => poll(error.message));
    } catch (error) {
      poll((error as Error).message);
    }
    options.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        clearInterval(poller);
        watcher?.close();
        void (running ?? Promise.resolve()).finally(resolve);
      },
      { once: true },
    );
  });
}
