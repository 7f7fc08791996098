/** Runs the CLI as users do: a real `node bin/npllm.js` process (built by `npm run build:engine`). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../base/paths.js';

export const cliPath = join(packageRoot, 'bin', 'npllm.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runNpllm(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env, cwd: packageRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** The last stdout line, parsed: where every `--json` command puts its result. */
export function lastJson<T = Record<string, unknown>>(run: CliRun): T {
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as T;
}
