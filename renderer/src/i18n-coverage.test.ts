/**
 * No English reaches the screen around the catalogue: every view (.tsx) is parsed with the
 * TypeScript compiler, and text rendered as it is written must not hold a word. That is JSX text,
 * and string literals or template text that flow straight (through ?:, ||, ??, && and +) into a
 * child or into an attribute people read. Text passed to a function (t('key'), a formatter) is not
 * rendered as written. Symbols (·, –, ×, ✎), single letters (`v2`) and the names below may.
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** Names and units, the same in every language. */
const allowedWords = new Set(['npllm', 'DATABASE_URL', 'GB', 'MB']);
const readAttributes = new Set(['title', 'aria-label', 'placeholder', 'alt', 'label', 'aria-description']);

function hasWords(text: string): boolean {
  return (text.match(/[A-Za-z][A-Za-z_]+/g) ?? []).some((word) => !allowedWords.has(word));
}

/** The literal text of an expression that is rendered as it stands. */
function renderedText(node: ts.Node): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isTemplateExpression(node)) return [node.head.text, ...node.templateSpans.flatMap((span) => [...renderedText(span.expression), span.literal.text])];
  if (ts.isParenthesizedExpression(node)) return renderedText(node.expression);
  if (ts.isConditionalExpression(node)) return [...renderedText(node.whenTrue), ...renderedText(node.whenFalse)];
  if (ts.isBinaryExpression(node)) {
    const operator = node.operatorToken.kind;
    if (operator === ts.SyntaxKind.AmpersandAmpersandToken) return renderedText(node.right);
    if (operator === ts.SyntaxKind.BarBarToken || operator === ts.SyntaxKind.QuestionQuestionToken || operator === ts.SyntaxKind.PlusToken)
      return [...renderedText(node.left), ...renderedText(node.right)];
  }
  return [];
}

/** The texts with words a .tsx source renders without the catalogue, each as `file:line: text`. */
function untranslated(source: string, file = 'view.tsx'): string[] {
  const tree = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const report = (node: ts.Node, texts: string[]) => {
    const line = tree.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    for (const text of texts.filter(hasWords)) found.push(`${file}:${line}: ${text.trim()}`);
  };
  const visit = (node: ts.Node) => {
    if (ts.isJsxText(node)) report(node, [node.text]);
    else if (ts.isJsxExpression(node) && node.expression && (ts.isJsxElement(node.parent) || ts.isJsxFragment(node.parent)))
      report(node, renderedText(node.expression));
    else if (ts.isJsxAttribute(node) && readAttributes.has(node.name.getText(tree))) {
      const value = node.initializer && ts.isJsxExpression(node.initializer) ? node.initializer.expression : node.initializer;
      if (value) report(node, renderedText(value));
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return found;
}

const views = import.meta.glob<string>(['./*.tsx', '!./*.test.tsx'], { query: '?raw', import: 'default', eager: true });

describe('every word of the views goes through the catalogue', () => {
  it('finds English where it is written out, and only there', () => {
    const sample = `
      export const View = ({ on, n, t }) => (
        <section title="Learner status" aria-label={t('a')}>
          Modulator {n} · <span>{on ? 'yes' : t('b')}</span>
          {n > 0 && \` · \${n} waiting\`} {on || 'none'} v{n} – ×
          <input placeholder={t('c')} data-testid="not-read" className="words here" />
          {format(n, 'en')} {t('d', { defaultValue: 'kept' })}
        </section>
      );`;
    expect(untranslated(sample).map((hit) => hit.replace(/^view\.tsx:\d+: /, ''))).toEqual(['Learner status', 'Modulator', 'yes', 'waiting', 'none']);
  });

  it('has no untranslated text in any view', () => {
    expect(Object.keys(views).length).toBeGreaterThan(10);
    expect(Object.entries(views).flatMap(([file, source]) => untranslated(source, file))).toEqual([]);
  });
});
