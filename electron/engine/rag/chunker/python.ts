import type { Node } from 'web-tree-sitter';
import { lastRowOf, leadingFirstRow, markRows, type Leading, type Outline, type Unit } from './outline.js';

const importTypes = new Set(['import_statement', 'import_from_statement', 'future_import_statement']);

/**
 * Module-level functions and classes; methods and nested classes inside classes, named
 * `Class.method`. Decorators come with the definition (tree-sitter wraps both in a
 * `decorated_definition`), docstrings are inside the body anyway. Functions nested in functions
 * stay in their parent: on their own they lose the closure that explains them.
 */
export function pythonOutline(root: Node): Outline {
  const ignorableRows = new Set<number>();
  return { units: definitionsIn(root, null, ignorableRows), ignorableRows };
}

function definitionsIn(container: Node, owner: string | null, ignorableRows: Set<number>): Unit[] {
  const units: Unit[] = [];
  for (const child of container.children) {
    if (importTypes.has(child.type)) markRows(ignorableRows, child);
    // A syntax error wraps what follows it in an ERROR node; the definitions inside still count.
    else if (child.type === 'ERROR') units.push(...definitionsIn(child, owner, ignorableRows));
    else {
      const unit = definitionUnit(child, owner, ignorableRows);
      if (unit) units.push(unit);
    }
  }
  return units;
}

function definitionUnit(node: Node, owner: string | null, ignorableRows: Set<number>): Unit | null {
  const definition = node.type === 'decorated_definition' ? node.childForFieldName('definition') : node;
  if (definition?.type !== 'function_definition' && definition?.type !== 'class_definition') return null;
  const name = definition.childForFieldName('name')?.text;
  if (!name) return null;
  const symbol = owner ? `${owner}.${name}` : name;
  const rows = { firstRow: leadingFirstRow(node, leading), lastRow: lastRowOf(node) };
  if (definition.type === 'function_definition') return { kind: owner ? 'method' : 'function', symbol, ...rows, children: [] };
  const body = definition.childForFieldName('body');
  return { kind: 'class', symbol, ...rows, children: body ? definitionsIn(body, symbol, ignorableRows) : [] };
}

function leading(sibling: Node): Leading {
  return sibling.type === 'comment' ? 'comment' : 'stop';
}
