/** `npllm serve`, `npllm --config FILE`: the HTTP server (API, OpenAI-compatible endpoint, web UI) until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { toNpllmError } from '../../../../shared/errors.js';
import { Engine } from '../../engine.js';
import { createLogger } from '../../base/log.js';
import { rendererFolder } from '../../base/paths.js';
import { serverApiKey } from '../../server/api-key.js';
import { startServer } from '../../server/http-server.js';
import type { Config } from '../../config/config.js';
import { loadConfig } from '../../config/config.js';
import { configFrom, configSourcesFrom, integer, type CliOptions } from '../options.js';
import { reportError } from '../output.js';

export function register(program: Command): void {
  program
    .command('serve')
    .description('start the HTTP server (API, OpenAI-compatible endpoint, web UI)')
    .option('-c, --config <file>', 'YAML config file')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port (default 7411)', integer('--port', 0, 65535))
    .action(async (options: CliOptions) => {
      process.exitCode = await runServer({ ...program.opts<CliOptions>(), ...options });
    });
}

export async function runServer(options: CliOptions): Promise<number> {
  let current: Promise<Engine> | undefined;
  try {
    const sources = configSourcesFrom(options);
    const config = configFrom(options);
    const logger = createLogger({ level: config.log.level, home: config.home });
    const open = (settings: Config) => Engine.open(settings, { logger, configSources: sources, onReload: reload });
    /**
     * system/reload (the settings screen saved a new model or database): requests wait while the
     * engine closes and opens again; if the new settings cannot open, the previous ones are used.
     */
    function reload(): void {
      const previous = current!;
      current = (async () => {
        const old = await previous.catch(() => undefined);
        await old?.dispose();
        try {
          const reopened = await open(loadConfig(sources));
          logger.log('info', `engine reopened with the saved settings (model ${reopened.model.displayName}, database ${reopened.database.kind})`);
          return reopened;
        } catch (error) {
          logger.log('error', `the saved settings could not be applied, keeping the previous ones: ${toNpllmError(error).describe()}`);
          return open(old?.config ?? config);
        }
      })();
    }
    current = open(config);
    const engine = await current;
    const apiKey = await serverApiKey({ host: config.server.host, allowedHosts: config.server.allowedHosts, apiKey: config.server.apiKey, home: config.home });
    const server = await startServer(() => current!, { ...config.server, apiKey: apiKey.key, staticDir: config.server.staticDir ?? rendererFolder });
    if (apiKey.file) {
      const where = apiKey.created ? `a new key was written to ${apiKey.file}` : `the key is in ${apiKey.file}`;
      logger.log('info', `the server can be reached from other machines, so every API call needs "Authorization: Bearer <key>": ${where}`);
    }
    logger.log(
      'info',
      `server listening on ${server.url} (model ${engine.model.displayName}, ${engine.model.threads} thread(s), database ${engine.database.kind} at ${engine.database.location})`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    logger.log('info', 'shutting down');
    await server.close();
    return 0;
  } catch (error) {
    return reportError(toNpllmError(error), false);
  } finally {
    await (await current?.catch(() => undefined))?.dispose();
  }
}
