import type { Node } from 'web-tree-sitter';
import type { Outline, Unit } from './outline.js';
import type { SourceText } from './source.js';

const headingTypes = new Set(['atx_heading', 'setext_heading']);

/**
 * One section per heading, of any level, running to the next heading: a parent heading's chunk
 * holds its own text, not its subsections', so nothing is repeated. The parser tells headings from
 * `#` lines inside fenced code. Text before the first heading is a section without a name.
 */
export function markdownOutline(root: Node, source: SourceText): Outline {
  const headings: Node[] = [];
  collectHeadings(root, headings);
  const units: Unit[] = headings.map((heading, index) => {
    let lastRow = (headings[index + 1]?.startPosition.row ?? source.rowCount) - 1;
    while (lastRow > heading.startPosition.row && source.isBlank(lastRow)) lastRow--;
    return { kind: 'section', symbol: headingText(heading), firstRow: heading.startPosition.row, lastRow, children: [] };
  });
  return { units, ignorableRows: new Set() };
}

/** Headings sit in nested `section` nodes, never deeper: only those are walked. */
function collectHeadings(node: Node, headings: Node[]): void {
  for (const child of node.children) {
    if (headingTypes.has(child.type)) headings.push(child);
    else if (child.type === 'section') collectHeadings(child, headings);
  }
}

/** The heading's words: line breaks of a setext heading and the optional closing `#`s of an ATX one are not. */
function headingText(heading: Node): string | null {
  const text = heading.childForFieldName('heading_content')?.text.replace(/\s+/g, ' ').trim();
  return (heading.type === 'atx_heading' ? text?.replace(/(^| )#+$/, '').trim() : text) || null;
}
