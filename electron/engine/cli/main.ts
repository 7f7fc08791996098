/**
 * `npllm`: ask a question (`--query`), run the server (`--config FILE` / `serve`), or one of the
 * commands in commands/, each of which calls the engine through the contract. This file only
 * wires them. stdout carries only the answer (or the --json object); progress, logs and errors go
 * to stderr.
 */
import { Command, CommanderError, Option } from 'commander';
import { catalogueIds, defaultModelId } from '../model/catalogue.js';
import { packageVersion } from '../base/paths.js';
import * as adapters from './commands/adapters.js';
import * as context from './commands/context.js';
import * as data from './commands/data.js';
import * as feedback from './commands/feedback.js';
import * as index from './commands/index.js';
import * as learn from './commands/learn.js';
import * as models from './commands/models.js';
import * as modulator from './commands/modulator.js';
import { runQuery } from './commands/query.js';
import * as serve from './commands/serve.js';
import * as stats from './commands/stats.js';
import { integer, type CliOptions } from './options.js';

export function buildProgram(): Command {
  const program = new Command('npllm')
    .description('NeuroPlastic LLM: a local code assistant that runs on your CPU and learns from you.')
    .version(packageVersion)
    // Argument errors are bad input: exit 2, as every other bad input does (commander's own is 1).
    // Inherited by the commands registered below.
    .exitOverride()
    // `npllm data export --project P`: options after a command are that command's, not the root's `--project`.
    .enablePositionalOptions()
    .option('-q, --query <question>', 'ask a question and stream the answer to stdout ("-" reads it from stdin)')
    .option('--json', 'print one JSON object (answer, interactionId, cached, model, timings) instead of streaming')
    .option('-c, --config <file>', 'YAML config file; without --query, starts the server')
    .option('-m, --model <id|path|uri>', `a catalogue model (${catalogueIds.join(', ')}; default ${defaultModelId}), a GGUF file or an hf: URI`)
    .option('-t, --threads <n>', 'llama.cpp threads', integer('--threads', 1, 256))
    .option('--max-tokens <n>', 'longest answer, in tokens', integer('--max-tokens', 1, 8192))
    .option('--context-size <n>', 'model context window, in tokens', integer('--context-size', 256, 131072))
    .option('-p, --project <path>', 'the project the question is about')
    .option('--no-cache', 'do not answer from the response cache')
    .option('--reply-to <interactionId>', 'the answer this question reacts to (default: your previous answer in this terminal within 10 minutes)')
    .option('--conversation <id>', 'the conversation this question belongs to (default: this terminal session)')
    .addOption(
      new Option('--adapter-channel <channel>', 'answer with the stable adapters, or try the newest experimental ones').choices(['stable', 'experimental']),
    )
    .addOption(new Option('--host <host>', 'server address').hideHelp())
    .addOption(new Option('--port <port>', 'server port').argParser(integer('--port', 0, 65535)).hideHelp())
    .action(async (options: CliOptions) => {
      if (options.query !== undefined) process.exitCode = await runQuery(options);
      else if (options.config) process.exitCode = await serve.runServer(options);
      else program.help();
    });
  for (const command of [index, context, feedback, stats, data, adapters, models, learn, modulator, serve]) command.register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Help and --version end the run normally; commander already printed the message otherwise.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  }
}
