#!/usr/bin/env node
// Builds npllm-train (electron/engine/learning/native) against the llama.cpp source node-llama-cpp
// ships as a git bundle, patched with native/llama.cpp.patch. Idempotent: the result is cached in
// the machine-wide cache (scripts/shared-cache.mjs: ~/.cache/npllm, outside the clone, so a fresh
// clone's CI finds it again instead of compiling llama.cpp for minutes) as
// trainer/<llama.cpp tag>-<hash of sources, patch, bundle commit and flavour>/bin/npllm-train
// (llama.cpp itself is built in trainer/work-<hash without npllm-train.cpp>/), and the clone's
// .cache/trainer/manifest.json names the binary this clone uses.
//
//   node scripts/build-trainer.mjs [--native] [--force] [--jobs N] [--verify [--verify-model M] [--verify-threads N]]
//
//   --native    -march=native instead of the portable AVX2/FMA/F16C baseline (measured within 2 % of
//               each other on an AVX-512 Xeon, so the portable build is the default)
//   --force     rebuild even when the cached binary exists
//   --verify    afterwards train 30 steps on Python's json package, evaluate it and load the adapter
//               with node-llama-cpp; M is a catalogue id (smollm2-135m, the default; coder-0.5b,
//               coder-1.5b: needs `npm run build`) or a .gguf path, from the shared model cache
//               (`npm run fetch-models`); N trainer threads (2)
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedCacheDir } from './shared-cache.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const nativeDir = join(root, 'electron/engine/learning/native');
const nativeSources = ['CMakeLists.txt', 'npllm-train.cpp', 'llama.cpp.patch'];
const llamaDir = join(root, 'node_modules/node-llama-cpp/llama');
const bundlePath = join(llamaDir, 'gitRelease.bundle');
const cacheRoot = join(sharedCacheDir, 'trainer');
const cloneDir = join(root, '.cache/trainer');
const manifestPath = join(cloneDir, 'manifest.json');
// Other clones on the machine may use other keys: only the oldest of more than this many builds of a flavour are removed.
const keptBuilds = 4;
// bump when the build recipe below changes in a way that must invalidate cached binaries
const recipeVersion = 1;

class BuildError extends Error {
  constructor(message, fix) {
    super(message);
    this.fix = fix;
  }
}

function log(line) {
  process.stderr.write(`[build-trainer] ${line}\n`);
}

function parseArgs(argv) {
  const options = { native: false, force: false, verify: false, verifyModel: 'smollm2-135m', verifyThreads: 2, jobs: availableParallelism() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--native') options.native = true;
    else if (arg === '--force') options.force = true;
    else if (arg === '--verify') options.verify = true;
    else if (arg === '--verify-model') {
      options.verifyModel = argv[++i];
      if (!options.verifyModel) throw new BuildError('--verify-model needs a catalogue id or a .gguf path', 'e.g. --verify-model coder-0.5b');
    } else if (arg === '--verify-threads') {
      options.verifyThreads = Number(argv[++i]);
      if (!Number.isInteger(options.verifyThreads) || options.verifyThreads < 1) {
        throw new BuildError('--verify-threads needs a positive integer', 'e.g. --verify-threads 1');
      }
    } else if (arg === '--jobs') {
      options.jobs = Number(argv[++i]);
      if (!Number.isInteger(options.jobs) || options.jobs < 1) {
        throw new BuildError('--jobs needs a positive integer', 'e.g. --jobs 2');
      }
    } else {
      throw new BuildError(`unknown option ${arg}`, 'options: --native --force --jobs N --verify --verify-model M --verify-threads N');
    }
  }
  return options;
}

const toolFixes = {
  cmake: 'install CMake >= 3.14 (Debian/Ubuntu: sudo apt-get install cmake; macOS: brew install cmake)',
  'g++': 'install a C++17 compiler (Debian/Ubuntu: sudo apt-get install g++; macOS: xcode-select --install)',
  make: 'install make (Debian/Ubuntu: sudo apt-get install make)',
  git: 'install git (Debian/Ubuntu: sudo apt-get install git)',
};

function checkTools() {
  for (const [tool, fix] of Object.entries(toolFixes)) {
    const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new BuildError(`${tool} was not found on PATH; it is needed to build the LoRA trainer`, fix);
    }
  }
}

function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (result.error || result.status !== 0) {
    const detail = (result.stderr || result.stdout || String(result.error ?? '')).trim().split('\n').slice(-20).join('\n');
    throw new BuildError(`${cmd} ${args.join(' ')} failed:\n${detail}`, opts.fix ?? 'see the output above');
  }
  return result.stdout;
}

// Streams a long command into a log file, printing only its progress percentages.
function runLogged(cmd, args, logFile, label) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile, { flags: 'a' });
    out.write(`\n$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastPercent = -1;
    let tail = [];
    const onData = (chunk) => {
      out.write(chunk);
      for (const line of chunk.toString().split('\n')) {
        if (line.trim()) tail = [...tail.slice(-39), line];
        const match = /^\[\s*(\d+)%\]/.exec(line);
        if (match && Number(match[1]) >= lastPercent + 10) {
          lastPercent = Number(match[1]);
          log(`${label} ${lastPercent}%`);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => reject(new BuildError(`${cmd} could not start: ${error.message}`, toolFixes[cmd] ?? '')));
    child.on('close', (code) => {
      out.end();
      if (code === 0) resolve();
      else reject(new BuildError(`${label} failed (exit ${code}); last lines:\n${tail.join('\n')}`, `full log: ${logFile}`));
    });
  });
}

function bundleInfo() {
  if (!existsSync(bundlePath)) {
    throw new BuildError(`node-llama-cpp's llama.cpp source bundle is missing (${bundlePath})`, 'run npm install');
  }
  const info = JSON.parse(readFileSync(join(llamaDir, 'llama.cpp.info.json'), 'utf8'));
  const heads = run('git', ['bundle', 'list-heads', bundlePath]).trim().split('\n');
  const commit = heads.map((line) => line.split(' ')[0]).find((sha) => /^[0-9a-f]{40}$/.test(sha));
  if (!commit) throw new BuildError(`no commit found in ${bundlePath}`, 'reinstall node-llama-cpp (npm install)');
  return { tag: String(info.tag), commit };
}

function hashOf(bundle, options, files) {
  const hash = createHash('sha256');
  hash.update(`recipe ${recipeVersion}\ncommit ${bundle.commit}\nflavour ${options.native ? 'native' : 'portable'}\n`);
  for (const name of files) {
    hash.update(`${name}\n`);
    hash.update(readFileSync(join(nativeDir, name)));
  }
  return hash.digest('hex').slice(0, 12);
}

// The cache is shared by every clone on the machine, each possibly at another key: of a flavour's
// binaries (and, separately, llama.cpp builds) the newest `keptBuilds` stay, the older ones go.
function pruneStale(keepDirs, flavour) {
  const entries = readdirSync(cacheRoot)
    .map((name) => ({ name, path: join(cacheRoot, name) }))
    .filter(({ path }) => !keepDirs.includes(path) && statSync(path).isDirectory())
    .map((entry) => ({ ...entry, info: join(entry.path, entry.name.startsWith('work-') ? 'work-info.json' : 'build-info.json') }))
    .filter(({ info }) => existsSync(info) && JSON.parse(readFileSync(info, 'utf8')).flavour === flavour)
    .map((entry) => ({ ...entry, mtime: statSync(entry.info).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const work of [false, true]) {
    for (const entry of entries.filter(({ name }) => name.startsWith('work-') === work).slice(keptBuilds - 1)) {
      log(`removing superseded ${entry.path}`);
      rmSync(entry.path, { recursive: true, force: true });
    }
  }
}

// A pid that exists, even one this user may not signal (EPERM), holds its lock.
function running(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

// Two clones (a CI run beside a developer's build) must not compile into one folder at once.
async function withBuildLock(work) {
  mkdirSync(cacheRoot, { recursive: true });
  const lock = join(cacheRoot, 'build.lock');
  for (let waited = 0; ; waited++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lock, 'utf8'));
      if (!running(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (waited % 30 === 0) log(`waiting for another build of the trainer (pid ${holder})`);
      await sleep(1000);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

function writeJsonAtomic(path, value) {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

async function build(options) {
  checkTools();
  const bundle = bundleInfo();
  const key = hashOf(bundle, options, nativeSources);
  // the llama.cpp build is shared by trainer versions that only differ in npllm-train.cpp, so
  // iterating on the trainer recompiles one file
  const workKey = hashOf(
    bundle,
    options,
    nativeSources.filter((name) => name !== 'npllm-train.cpp'),
  );
  const dir = join(cacheRoot, `${bundle.tag}-${key}`);
  const workDir = join(cacheRoot, `work-${workKey}`);
  const binary = join(dir, 'bin/npllm-train');
  const infoFile = join(dir, 'build-info.json');
  const flavour = options.native ? 'native' : 'portable';

  mkdirSync(cloneDir, { recursive: true });
  // A build already in the shared cache (another clone's, or this one's before) is only named in this clone's manifest.
  const reuse = (how) => {
    if (options.force || !existsSync(binary) || !existsSync(infoFile)) return null;
    log(`${how}: ${binary}`);
    writeJsonAtomic(manifestPath, { ...JSON.parse(readFileSync(infoFile, 'utf8')), binary });
    return binary;
  };
  return (
    reuse('up to date') ??
    withBuildLock(() => reuse('built meanwhile by another clone') ?? compile({ options, bundle, key, dir, workDir, binary, infoFile, flavour }))
  );
}

async function compile({ options, bundle, key, dir, workDir, binary, infoFile, flavour }) {
  const started = Date.now();
  const src = join(workDir, 'llama.cpp');
  const buildDir = join(workDir, 'build');
  const logFile = join(dir, 'build.log');
  mkdirSync(workDir, { recursive: true });
  mkdirSync(join(dir, 'bin'), { recursive: true });
  log(`building npllm-train (${flavour}) for llama.cpp ${bundle.tag} (${bundle.commit.slice(0, 10)}) in ${dir}`);

  const workInfo = join(workDir, 'work-info.json');
  if (!existsSync(workInfo)) {
    // a fresh tree at the bundle's commit plus our patch; the marker is written once both are in place
    log('extracting llama.cpp from the node-llama-cpp bundle');
    rmSync(src, { recursive: true, force: true });
    run('git', ['-c', 'advice.detachedHead=false', 'clone', '--quiet', bundlePath, src]);
    run('git', ['-C', src, 'checkout', '--quiet', '--detach', bundle.commit]);
    log('applying llama.cpp.patch');
    run('git', ['-C', src, 'apply', '--whitespace=nowarn', join(nativeDir, 'llama.cpp.patch')], {
      fix: 'the patch no longer applies to this llama.cpp; rebase electron/engine/learning/native/llama.cpp.patch',
    });
    writeJsonAtomic(workInfo, { llamaCppCommit: bundle.commit, flavour });
  }

  log('configuring (cmake)');
  await runLogged(
    'cmake',
    [
      '-S',
      nativeDir,
      '-B',
      buildDir,
      `-DLLAMA_CPP_DIR=${src}`,
      '-DCMAKE_BUILD_TYPE=Release',
      `-DGGML_NATIVE=${options.native ? 'ON' : 'OFF'}`,
      '-DGGML_CCACHE=OFF',
    ],
    logFile,
    'configure',
  );
  log(`compiling with ${options.jobs} jobs (a few minutes the first time)`);
  await runLogged('cmake', ['--build', buildDir, '--target', 'npllm-train', '-j', String(options.jobs)], logFile, 'compile');

  const built = join(buildDir, 'npllm-train');
  const probe = spawnSync(built, ['--help'], { encoding: 'utf8' });
  if (probe.error || !probe.stderr.includes('usage:')) {
    throw new BuildError(`the built binary does not run (${probe.error?.message ?? probe.stderr.slice(0, 200)})`, `see ${logFile}`);
  }
  copyFileSync(built, `${binary}.tmp`);
  renameSync(`${binary}.tmp`, binary);
  const info = {
    llamaCppTag: bundle.tag,
    llamaCppCommit: bundle.commit,
    key,
    flavour,
    builtAt: new Date().toISOString(),
    buildSeconds: Math.round((Date.now() - started) / 1000),
  };
  writeJsonAtomic(infoFile, info);
  writeJsonAtomic(manifestPath, { ...info, binary });
  pruneStale([dir, workDir], flavour);
  log(`built ${binary} in ${info.buildSeconds} s (${(statSync(binary).size / 1e6).toFixed(1)} MB)`);
  return binary;
}

// ------------------------------------------------------------------------------------------------
// --verify: an end-to-end check of the trainer and of the adapter it writes

function runTrainer(binary, args) {
  const result = spawnSync(binary, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const lines = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  if (result.status !== 0) {
    const error = lines.find((line) => line.type === 'error');
    throw new BuildError(`npllm-train ${args[0]} failed: ${error?.message ?? result.stderr.slice(-500)}`, 'see the message');
  }
  return lines;
}

async function nodeLlamaNll(modelPath, adapterPath, tokensText, windows, ctx, threads) {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const model = await llama.loadModel({ modelPath });
  const tokens = model.tokenize(tokensText);
  const measure = async (adapter) => {
    const context = await model.createContext({
      contextSize: ctx,
      batchSize: ctx,
      threads,
      ...(adapter ? { lora: { adapters: [{ filePath: adapter, scale: 1 }] } } : {}),
    });
    const sequence = context.getSequence();
    let sum = 0;
    let count = 0;
    for (let off = 0, w = 0; off + 1 < tokens.length && w < windows; off += ctx, w++) {
      const window = tokens.slice(off, Math.min(off + ctx, tokens.length - 1));
      await sequence.clearHistory();
      const out = await sequence.controlledEvaluate(
        window.map((token, j) => [
          token,
          {
            generateNext: {
              logits: { filter: { tokens: [tokens[off + j + 1]], includeTop: 1 } },
              totalLogitWeight: true,
              options: { temperature: 1, topK: 0, topP: 1, minP: 0 },
            },
          },
        ]),
      );
      for (let j = 0; j < window.length; j++) {
        const next = out[j].next;
        const maxLogit = Math.max(...next.logits.values());
        sum += maxLogit + Math.log(next.totalLogitWeight) - next.logits.get(tokens[off + j + 1]);
        count++;
      }
    }
    await context.dispose();
    return { nll: sum / count, tokens: count };
  };
  const base = await measure(null);
  const adapted = await measure(adapterPath);
  await model.dispose();
  await llama.dispose();
  return { base, adapted };
}

async function verifyModelPath(model) {
  if (model.endsWith('.gguf')) return model;
  const catalogue = new URL('../dist/electron/engine/model/catalogue.js', import.meta.url);
  if (!existsSync(catalogue))
    throw new BuildError(`--verify-model ${model} needs the model catalogue, which is not built`, 'run npm run build, or pass a .gguf path');
  const entry = (await import(catalogue.href)).findCatalogueEntry(model);
  if (!entry) throw new BuildError(`--verify-model ${model} is not in the model catalogue`, 'use smollm2-135m, coder-0.5b, coder-1.5b or a .gguf path');
  return join(sharedCacheDir, 'models', entry.fileName);
}

async function verify(binary, options) {
  const modelPath =
    options.verifyModel === 'smollm2-135m' ? join(sharedCacheDir, 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf') : await verifyModelPath(options.verifyModel);
  if (!existsSync(modelPath)) throw new BuildError(`model missing: ${modelPath}`, 'run npm run fetch-models (or npllm models pull ID)');
  const pythonLib = readdirSync('/usr/lib')
    .filter((name) => /^python3\.\d+$/.test(name))
    .sort()
    .pop();
  const jsonDir = pythonLib && join('/usr/lib', pythonLib, 'json');
  if (!jsonDir || !existsSync(join(jsonDir, 'decoder.py'))) {
    throw new BuildError('verification data (/usr/lib/python3.*/json/*.py) not found', 'install python3 or skip --verify');
  }
  const work = join(cloneDir, 'verify');
  mkdirSync(work, { recursive: true });
  const trainFile = join(work, 'train.txt');
  const heldOutFile = join(work, 'heldout.txt');
  writeFileSync(
    trainFile,
    readdirSync(jsonDir)
      .filter((f) => f.endsWith('.py') && f !== 'decoder.py')
      .sort()
      .map((f) => readFileSync(join(jsonDir, f), 'utf8'))
      .join(''),
  );
  copyFileSync(join(jsonDir, 'decoder.py'), heldOutFile);
  const adapter = join(work, 'adapter.gguf');
  const common = ['--model', modelPath, '--threads', String(options.verifyThreads), '--ctx', '128'];

  log(`verify: training 30 steps of ${modelPath} on ${jsonDir} (decoder.py held out)`);
  const trained = runTrainer(binary, ['train', ...common, '--data', trainFile, '--out', adapter, '--steps', '30', '--lr', '1e-4']);
  const steps = trained.filter((line) => line.type === 'step');
  const done = trained.find((line) => line.type === 'done');
  const evalOf = (data, withAdapter, maxWindows) =>
    runTrainer(binary, [
      'eval',
      ...common,
      '--data',
      data,
      ...(withAdapter ? ['--adapter', adapter] : []),
      ...(maxWindows ? ['--max-windows', String(maxWindows)] : []),
    ]).find((line) => line.type === 'eval');
  log('verify: evaluating (trainer) before/after');
  const trainBefore = evalOf(trainFile, false);
  const trainAfter = evalOf(trainFile, true);
  const heldBefore = evalOf(heldOutFile, false, 8);
  const heldAfter = evalOf(heldOutFile, true, 8);
  log('verify: loading the adapter with node-llama-cpp');
  const viaNode = await nodeLlamaNll(modelPath, adapter, readFileSync(heldOutFile, 'utf8'), 8, 128, options.verifyThreads);

  log('verify: SIGTERM stops after the current step and still writes the adapter');
  const stopped = join(work, 'stopped.gguf');
  rmSync(stopped, { force: true });
  const signalled = await new Promise((resolve, reject) => {
    const child = spawn(binary, ['train', ...common, '--data', trainFile, '--out', stopped, '--steps', '1000'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buffer = '';
    let sent = false;
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      if (!sent && buffer.includes('"type":"step"')) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        lines: buffer
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      }),
    );
  });
  const signalDone = signalled.lines.find((line) => line.type === 'done');

  const summary = {
    model: modelPath,
    steps: steps.length,
    firstLoss: steps[0]?.loss,
    lastLoss: steps.at(-1)?.loss,
    tokensPerSecond: done?.tokensPerSecond,
    trainNll: { before: trainBefore.nll, after: trainAfter.nll },
    heldOutNll: { before: heldBefore.nll, after: heldAfter.nll },
    nodeLlamaCpp: { base: viaNode.base.nll, adapter: viaNode.adapted.nll, tokens: viaNode.base.tokens },
    sigterm: { exitCode: signalled.code, stopped: signalDone?.stopped, steps: signalDone?.steps, written: existsSync(stopped) },
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  const failures = [];
  if (!(trainAfter.nll < trainBefore.nll)) failures.push('training NLL did not go down');
  if (!(Math.abs(viaNode.adapted.nll - viaNode.base.nll) > 1e-3)) failures.push('the adapter does not change node-llama-cpp output');
  if (!(Math.abs(viaNode.base.nll - heldBefore.nll) < 0.02)) failures.push('node-llama-cpp and npllm-train disagree on the base NLL');
  if (!(Math.abs(viaNode.adapted.nll - heldAfter.nll) < 0.02)) failures.push('node-llama-cpp and npllm-train disagree on the adapted NLL');
  if (signalled.code !== 0 || signalDone?.stopped !== 'signal' || !existsSync(stopped)) failures.push('SIGTERM did not stop cleanly');
  if (failures.length > 0) throw new BuildError(`verification failed: ${failures.join('; ')}`, 'see the summary above');
  log('verify: ok');
}

try {
  const options = parseArgs(process.argv.slice(2));
  const binary = await build(options);
  if (options.verify) await verify(binary, options);
  process.stdout.write(`${binary}\n`);
} catch (error) {
  if (error instanceof BuildError) {
    process.stderr.write(`[build-trainer] error: ${error.message}\n[build-trainer] fix: ${error.fix}\n`);
    process.exit(1);
  }
  throw error;
}
