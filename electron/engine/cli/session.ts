/**
 * One command's run: open the engine, call the contract through its dispatcher as the command
 * line (any folder may be named), print progress and streamed tokens, turn Ctrl+C into
 * cancellation (which records what it must), and failures into a message with a fix and the exit
 * code of their kind.
 */
import type { ApiMethod, ApiRequest, ApiResponse } from '../../../shared/contract.js';
import { toNpllmError } from '../../../shared/errors.js';
import type { Config } from '../config/config.js';
import { Engine } from '../engine.js';
import { createLogger } from '../base/log.js';
import { configFrom, type CliOptions } from './options.js';
import { progressPrinter, reportError } from './output.js';

export interface Session {
  engine: Engine;
  config: Config;
  signal: AbortSignal;
  /** A contract method, as the command line; progress goes to stderr, tokens to `onToken` when given. */
  call<M extends ApiMethod>(method: M, request: ApiRequest<M>, onToken?: (text: string) => void): Promise<ApiResponse<M>>;
}

export interface SessionSetup<T> {
  /** Work before the engine opens (reading stdin, checking arguments), so bad input never waits for the database. */
  prepare?: (config: Config) => Promise<T>;
  /** The model is checked (and fetched) while the database opens; other commands never touch it. */
  needsModel?: boolean;
}

export async function withSession<T = undefined>(
  options: CliOptions,
  setup: SessionSetup<T>,
  work: (session: Session, prepared: T) => Promise<void>,
): Promise<number> {
  let engine: Engine | undefined;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  const progress = progressPrinter();
  try {
    const config = configFrom(options);
    const prepared = (await setup.prepare?.(config)) as T;
    engine = await Engine.open(config, {
      prepareModel: setup.needsModel === true,
      onProgress: progress,
      logger: createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level, home: config.home }),
    });
    const opened = engine;
    const session: Session = {
      engine: opened,
      config,
      signal: abort.signal,
      call: (method, request, onToken) =>
        opened.api.call(method, request, {
          caller: 'cli',
          signal: abort.signal,
          onEvent: (event) => (event.type === 'progress' ? progress(event.progress) : onToken?.(event.text)),
        }),
    };
    await work(session, prepared);
    return 0;
  } catch (error) {
    return reportError(toNpllmError(error), options.json === true);
  } finally {
    process.off('SIGINT', onSigint);
    await engine?.dispose();
  }
}
