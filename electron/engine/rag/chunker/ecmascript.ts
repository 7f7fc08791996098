import type { Node } from 'web-tree-sitter';
import { lastRowOf, leadingFirstRow, markRows, type Leading, type Outline, type Unit } from './outline.js';

const functionTypes = new Set([
  'function_declaration',
  'generator_function_declaration',
  'function_expression',
  'function',
  'generator_function',
  'arrow_function',
]);
const classTypes = new Set(['class_declaration', 'abstract_class_declaration', 'class']);
/** Named shapes a reader looks up like a class; `type` aliases stay with the module's code. */
const typeShapeTypes = new Set(['interface_declaration', 'enum_declaration']);

/**
 * One grammar walk for JavaScript, TypeScript and TSX (the grammars share node names):
 * top-level functions, classes, interfaces and enums, and functions held by `const`/`let`/`var`,
 * `module.exports = …` and `export default …`. Methods (and fields holding functions) are named
 * `Class.method`. A JSDoc or line comment right above a definition, and decorators, belong to it.
 */
export function ecmaScriptOutline(root: Node): Outline {
  const ignorableRows = new Set<number>();
  return { units: statementsIn(root, ignorableRows), ignorableRows };
}

function statementsIn(container: Node, ignorableRows: Set<number>): Unit[] {
  const units: Unit[] = [];
  for (const child of container.children) {
    if (isPreamble(child)) markRows(ignorableRows, child);
    // A syntax error wraps what follows it in an ERROR node; the definitions inside still count.
    else if (child.type === 'ERROR') units.push(...statementsIn(child, ignorableRows));
    else {
      const unit = statementUnit(child);
      if (unit) units.push(unit);
    }
  }
  return units;
}

/** Imports, re-exports, `require` bindings and `'use strict'`: they wire a module up without saying what it does. */
function isPreamble(statement: Node): boolean {
  if (statement.type === 'import_statement') return true;
  if (statement.type === 'export_statement') return statement.childForFieldName('source') !== null;
  if (statement.type === 'expression_statement') return statement.namedChildren.length === 1 && statement.namedChildren[0]?.type === 'string';
  if (statement.type !== 'lexical_declaration' && statement.type !== 'variable_declaration') return false;
  const declarators = statement.namedChildren.filter((child) => child.type === 'variable_declarator');
  return declarators.length > 0 && declarators.every((declarator) => isRequire(declarator.childForFieldName('value')));
}

/** `require('x')`, `require('x').y`. */
function isRequire(value: Node | null): boolean {
  const call = value?.type === 'member_expression' ? value.childForFieldName('object') : value;
  return call?.type === 'call_expression' && call.childForFieldName('function')?.text === 'require';
}

type Shape = Omit<Unit, 'firstRow' | 'lastRow'>;

function statementUnit(statement: Node): Unit | null {
  const shape = shapeOf(statement);
  return shape && { ...shape, firstRow: leadingFirstRow(statement, leading), lastRow: lastRowOf(statement) };
}

/** What a top-level statement defines, looking through `export` and `export default`. */
function shapeOf(node: Node, exportedAs: string | null = null): Shape | null {
  if (node.type === 'export_statement') {
    const isDefault = node.children.some((child) => child.type === 'default');
    const inner = node.childForFieldName('declaration') ?? node.childForFieldName('value');
    return inner ? shapeOf(inner, isDefault ? 'default' : null) : null;
  }
  if (functionTypes.has(node.type)) return { kind: 'function', symbol: nameOf(node) ?? exportedAs, children: [] };
  if (classTypes.has(node.type)) {
    const symbol = nameOf(node) ?? exportedAs;
    const body = node.childForFieldName('body');
    return { kind: 'class', symbol, children: body ? membersOf(body, symbol) : [] };
  }
  if (typeShapeTypes.has(node.type)) return { kind: 'class', symbol: nameOf(node), children: [] };
  if (node.type === 'lexical_declaration' || node.type === 'variable_declaration') {
    const declarator = node.namedChildren.find((child) => holdsFunction(child.childForFieldName('value')));
    return declarator ? { kind: 'function', symbol: nameOf(declarator), children: [] } : null;
  }
  if (node.type === 'expression_statement') {
    const assignment = node.namedChildren[0];
    if (assignment?.type !== 'assignment_expression' || !holdsFunction(assignment.childForFieldName('right'))) return null;
    return { kind: 'function', symbol: assignment.childForFieldName('left')?.text ?? null, children: [] };
  }
  return null;
}

function membersOf(body: Node, owner: string | null): Unit[] {
  const units: Unit[] = [];
  for (const member of body.namedChildren) {
    const isMethod = member.type === 'method_definition';
    const isFunctionField =
      (member.type === 'public_field_definition' || member.type === 'field_definition') && holdsFunction(member.childForFieldName('value'));
    if (!isMethod && !isFunctionField) continue;
    const name = (member.childForFieldName('name') ?? member.childForFieldName('property'))?.text;
    if (!name) continue;
    units.push({
      kind: 'method',
      symbol: owner ? `${owner}.${name}` : name,
      firstRow: leadingFirstRow(member, leading),
      lastRow: lastRowOf(member),
      children: [],
    });
  }
  return units;
}

/** A function, or a call wrapping one: `memo(() => …)`, `forwardRef(function …)`, `create((set) => …)`. */
function holdsFunction(value: Node | null): boolean {
  if (!value) return false;
  if (functionTypes.has(value.type)) return true;
  if (value.type !== 'call_expression') return false;
  return value.childForFieldName('arguments')?.namedChildren.some((argument) => functionTypes.has(argument.type)) ?? false;
}

function nameOf(node: Node): string | null {
  return node.childForFieldName('name')?.text ?? null;
}

function leading(sibling: Node): Leading {
  if (sibling.type === 'comment') return 'comment';
  // TypeScript parses a member's decorators as its siblings in the class body.
  if (sibling.type === 'decorator') return 'decorator';
  return 'stop';
}
