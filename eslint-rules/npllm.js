// @ts-check
/**
 * npllm's own lint rules, the house's layering made checkable (VS Code's code-layering is the
 * model): inside the engine each capability folder lists the folders it may import (an
 * allowlist), no folder reaches into another's SQL (`queries.ts`), SQL lives only in queries.ts,
 * and no import cycle exists. Each rule reports what is wrong and what to do instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const specifierPattern = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Relative imports of a source text, as written. */
function relativeSpecifiers(text) {
  const found = [];
  for (const match of text.matchAll(specifierPattern)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (specifier && specifier.startsWith('.')) found.push(specifier);
  }
  return found;
}

/** The file a relative specifier names (TypeScript's `.js` → `.ts`/`.tsx`), or null. */
function resolveImport(fromFile, specifier) {
  const base = resolve(dirname(fromFile), specifier);
  const stem = base.replace(/\.(c|m)?js$/, '');
  for (const candidate of [`${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, base, join(base, 'index.ts')]) {
    if (existsSync(candidate) && !candidate.endsWith(sep)) return candidate;
  }
  return null;
}

const isTest = (file) => /\.test\.tsx?$/.test(file) || /[\\/]test[\\/]/.test(file);

/** The engine folder a file belongs to: `rag` for electron/engine/rag/…, `(root)` for electron/engine/engine.ts. */
function engineFolder(file, engineRoot) {
  const inside = relative(engineRoot, file);
  if (inside.startsWith('..') || inside === '') return null;
  const parts = inside.split(sep);
  return parts.length === 1 ? '(root)' : parts[0];
}

/** @type {import('eslint').Rule.RuleModule} */
const layering = {
  meta: {
    type: 'problem',
    docs: { description: 'An engine folder imports only the folders its allowlist names.' },
    schema: [
      {
        type: 'object',
        properties: { engineRoot: { type: 'string' }, allow: { type: 'object' } },
        required: ['engineRoot', 'allow'],
        additionalProperties: false,
      },
    ],
  },
  create(context) {
    const { engineRoot: rootOption, allow } = context.options[0];
    const engineRoot = resolve(context.cwd, rootOption);
    const file = context.filename;
    const from = engineFolder(file, engineRoot);
    if (from === null || isTest(file)) return {};
    const allowed = allow[from];
    const check = (node, specifier) => {
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const target = resolve(dirname(file), specifier);
      const to = engineFolder(target.replace(/\.js$/, '.ts'), engineRoot);
      if (to === null || to === from) return;
      if (allowed === undefined) {
        context.report({
          node,
          message: `electron/engine/${from}/ has no layering allowlist: add it to the npllm/layering rule in eslint.config.js (which folders may it import?).`,
        });
        return;
      }
      if (!allowed.includes(to)) {
        context.report({
          node,
          message: `electron/engine/${from}/ may not import ${to === '(root)' ? 'the engine itself' : `${to}/`} (${specifier}); its allowlist is [${allowed.join(', ')}]. Depend on an interface it is handed, or move the shared piece down to a folder both may import.`,
        });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

/** @type {import('eslint').Rule.RuleModule} */
const noForeignQueries = {
  meta: {
    type: 'problem',
    docs: { description: "A capability's SQL (queries.ts) is private to its folder." },
    schema: [{ type: 'object', properties: { engineRoot: { type: 'string' } }, required: ['engineRoot'], additionalProperties: false }],
  },
  create(context) {
    const engineRoot = resolve(context.cwd, context.options[0].engineRoot);
    const file = context.filename;
    const from = engineFolder(file, engineRoot);
    if (from === null || isTest(file)) return {};
    const check = (node, specifier) => {
      if (typeof specifier !== 'string' || !/(^|\/)queries(\.js)?$/.test(specifier)) return;
      const to = engineFolder(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'), engineRoot);
      if (to !== null && to !== from) {
        context.report({
          node,
          message: `${specifier} is the SQL of electron/engine/${to}/, private to it: call what ${to}/ offers (its service or API module) instead.`,
        });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
    };
  },
};

/** @type {import('eslint').Rule.RuleModule} */
const sqlOnlyInQueries = {
  meta: {
    type: 'problem',
    docs: { description: 'SQL (drizzle-orm, pg, the schema) only in queries.ts and the db/ plumbing.' },
    schema: [{ type: 'object', properties: { allowedFiles: { type: 'array', items: { type: 'string' } } }, additionalProperties: false }],
  },
  create(context) {
    const file = context.filename;
    const allowedFiles = (context.options[0]?.allowedFiles ?? []).map((path) => resolve(context.cwd, path));
    if (isTest(file) || /[\\/]queries\.ts$/.test(file) || allowedFiles.includes(file)) return {};
    return {
      ImportDeclaration(node) {
        // Types of rows carry no SQL.
        if (node.importKind === 'type') return;
        const source = String(node.source.value);
        const sqlModule = source === 'drizzle-orm' || source.startsWith('drizzle-orm/') || source === 'pg';
        const schema = /(^|\/)schema(\.js)?$/.test(source) && resolveImport(file, source)?.endsWith(`${sep}db${sep}schema.ts`);
        if (sqlModule || schema) {
          context.report({ node, message: `SQL lives only in a capability's queries.ts: move what uses ${source} there and call it from here.` });
        }
      },
    };
  },
};

/** The relative-import graph, read lazily once per lint run: file → files it imports. */
const graph = new Map();

function importsOf(file) {
  let edges = graph.get(file);
  if (edges) return edges;
  edges = [];
  graph.set(file, edges);
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return edges;
  }
  for (const specifier of relativeSpecifiers(text)) {
    const target = resolveImport(file, specifier);
    if (target) edges.push(target);
  }
  return edges;
}

/** A path of imports from `start` back to `goal`, or null. */
function pathBack(start, goal) {
  const seen = new Set();
  const stack = [[start, [start]]];
  while (stack.length) {
    const [file, path] = stack.pop();
    if (file === goal) return path;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const next of importsOf(file)) stack.push([next, [...path, next]]);
  }
  return null;
}

/** @type {import('eslint').Rule.RuleModule} */
const noCycles = {
  meta: {
    type: 'problem',
    docs: { description: 'No module imports itself through others (type imports included: they couple the files all the same).' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const check = (node, specifier) => {
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const target = resolveImport(file, specifier);
      if (!target) return;
      const cycle = pathBack(target, file);
      if (cycle) {
        const shown = [file, ...cycle].map((path) => relative(context.cwd, path)).join(' → ');
        context.report({ node, message: `Import cycle: ${shown}. Move what both need into a module of its own that neither imports back.` });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
    };
  },
};

export default {
  meta: { name: 'npllm' },
  rules: { layering, 'no-foreign-queries': noForeignQueries, 'sql-only-in-queries': sqlOnlyInQueries, 'no-cycles': noCycles },
};
