import type { Node } from 'web-tree-sitter';
import { parse as parseYaml } from 'yaml';
import { lastRowOf, leadingFirstRow, markRows, type Leading, type Outline, type Unit } from './outline.js';
import type { SourceText } from './source.js';

/**
 * JSON and YAML files are cut at their top-level keys (`scripts`, `dependencies`, `jobs`), each
 * a section named by the key. A top-level array or scalar has no keys and falls back to windows.
 */
export function jsonOutline(root: Node): Outline {
  const units: Unit[] = [];
  for (const value of root.namedChildren) {
    if (value.type !== 'object') continue;
    for (const pair of value.namedChildren) {
      if (pair.type !== 'pair') continue;
      const key = pair.childForFieldName('key');
      units.push({ kind: 'section', symbol: key ? jsonKey(key.text) : null, firstRow: leadingFirstRow(pair, leading), lastRow: lastRowOf(pair), children: [] });
    }
  }
  return { units, ignorableRows: new Set() };
}

/**
 * Every document of a YAML stream contributes its top-level keys; `---` separators are dropped.
 * The parser hangs a comment line before a key onto the end of the previous key's value: it is
 * given back to the key below it, as a comment above a definition is elsewhere.
 */
export function yamlOutline(root: Node, source: SourceText): Outline {
  const ignorableRows = new Set<number>();
  const units: Unit[] = [];
  for (const document of root.namedChildren) {
    if (document.type !== 'document') continue;
    let previousLastRow = -1;
    for (const child of document.children) {
      if (child.type === '---' || child.type === '...') markRows(ignorableRows, child);
      const mapping = child.type === 'block_node' ? child.namedChildren.find((node) => node.type === 'block_mapping') : undefined;
      for (const pair of mapping?.namedChildren ?? []) {
        if (pair.type !== 'block_mapping_pair') continue;
        const key = pair.childForFieldName('key');
        let firstRow = pair.startPosition.row;
        while (firstRow - 1 > previousLastRow && /^\s*#/.test(source.row(firstRow - 1))) firstRow--;
        const lastRow = lastRowBeforeComments(pair);
        units.push({ kind: 'section', symbol: key ? yamlKey(key.text) : null, firstRow, lastRow, children: [] });
        previousLastRow = lastRow;
      }
    }
  }
  return { units, ignorableRows };
}

/** Last row of the node's own content: comments at the end of its right-most descendants are not. */
function lastRowBeforeComments(node: Node): number {
  let last = node;
  for (;;) {
    const child = last.children.findLast((candidate) => candidate.type !== 'comment');
    if (!child) return lastRowOf(last);
    last = child;
  }
}

/** Keys are named as their values read (`"a\u00e9"` is `aé`); a key too broken to read keeps its text. */
function jsonKey(text: string): string {
  try {
    const key: unknown = JSON.parse(text);
    return typeof key === 'string' ? key : text;
  } catch {
    return text;
  }
}

function yamlKey(text: string): string {
  if (!/^["']/.test(text)) return text.trim();
  try {
    const key: unknown = parseYaml(text);
    return typeof key === 'string' ? key : text;
  } catch {
    return text;
  }
}

function leading(sibling: Node): Leading {
  return sibling.type === 'comment' ? 'comment' : 'stop';
}
