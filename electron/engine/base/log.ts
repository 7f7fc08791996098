/**
 * Logs go to stderr (stdout belongs to answers and --json output) and, once the data folder is
 * known, to <home>/logs/npllm.log as JSON lines.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFolderSync } from './files.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(options: { level: LogLevel | 'silent'; home?: string; stderr?: boolean }): Logger {
  let file: string | undefined;
  if (options.home) {
    try {
      makeFolderSync(join(options.home, 'logs'));
      file = join(options.home, 'logs', 'npllm.log');
    } catch {
      file = undefined;
    }
  }
  return {
    log(level, message, fields) {
      if (rank[level] < rank[options.level]) return;
      if (options.stderr !== false) process.stderr.write(`[npllm] ${level === 'info' ? '' : `${level}: `}${message}\n`);
      if (file) {
        try {
          appendFileSync(file, `${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
        } catch {
          file = undefined;
        }
      }
    },
  };
}
