import type { Node } from 'web-tree-sitter';
import { lastRowOf, leadingFirstRow, markRows, type Leading, type Outline, type Unit } from './outline.js';

/** Odoo data files wrap their records in `<odoo>` or `<openerp>`, optionally with `<data>` inside. */
const odooRoots = new Set(['odoo', 'openerp']);

/**
 * One chunk per child of the root element: for Odoo that is each `<record>`, `<template>`,
 * `<menuitem>`… (looking through `<data>`), named by its `id` attribute, else by its tag. The
 * prolog and the wrapper tags carry nothing searchable and are dropped.
 */
export function xmlOutline(root: Node): Outline {
  const ignorableRows = new Set<number>();
  const units: Unit[] = [];
  if (root.type === 'ERROR') units.push(...salvagedElements(root));
  for (const child of root.type === 'ERROR' ? [] : root.children) {
    if (child.type === 'prolog') markRows(ignorableRows, child);
    else if (child.type === 'element') units.push(...rootChildren(child, ignorableRows));
    else if (child.type === 'ERROR') units.push(...salvagedElements(child));
  }
  return { units, ignorableRows };
}

/**
 * A broken document leaves the root's tags and its well-formed children loose under ERROR nodes:
 * those children still become chunks; the broken ones stay in the leftover windows.
 */
function salvagedElements(node: Node): Unit[] {
  return node.children.flatMap((child) => {
    if (child.type === 'element')
      return tagName(child) === 'data'
        ? contentOf(child)
            .filter((inner) => inner.type === 'element')
            .map(elementUnit)
        : [elementUnit(child)];
    return child.type === 'ERROR' || child.type === 'content' ? salvagedElements(child) : [];
  });
}

function rootChildren(rootElement: Node, ignorableRows: Set<number>): Unit[] {
  const odoo = odooRoots.has(tagName(rootElement) ?? '');
  const units: Unit[] = [];
  const visit = (element: Node): void => {
    for (const tag of element.children) if (tag.type !== 'content') markRows(ignorableRows, tag);
    for (const node of contentOf(element)) {
      if (node.type !== 'element') continue;
      if (odoo && tagName(node) === 'data') visit(node);
      else units.push(elementUnit(node));
    }
  };
  visit(rootElement);
  return units;
}

function elementUnit(element: Node): Unit {
  return {
    kind: 'element',
    symbol: attribute(element, 'id') ?? tagName(element),
    firstRow: leadingFirstRow(element, leading),
    lastRow: lastRowOf(element),
    children: [],
  };
}

function contentOf(element: Node): Node[] {
  return element.children.find((child) => child.type === 'content')?.children ?? [];
}

/** The start tag (`STag`) or the self-closing tag (`EmptyElemTag`) names the element and holds its attributes. */
function openingTag(element: Node): Node | undefined {
  return element.children.find((child) => child.type === 'STag' || child.type === 'EmptyElemTag');
}

function tagName(element: Node): string | null {
  return openingTag(element)?.children.find((child) => child.type === 'Name')?.text ?? null;
}

function attribute(element: Node, name: string): string | null {
  for (const node of openingTag(element)?.children ?? []) {
    if (node.type !== 'Attribute') continue;
    const [key, value] = [node.children.find((child) => child.type === 'Name'), node.children.find((child) => child.type === 'AttValue')];
    if (key?.text === name && value) return value.text.slice(1, -1);
  }
  return null;
}

function leading(sibling: Node): Leading {
  if (sibling.type === 'Comment') return 'comment';
  return sibling.type === 'CharData' && !sibling.text.trim() ? 'skip' : 'stop';
}
