/**
 * An answer as GitHub-flavoured Markdown (tables, lists, task lists, strikethrough, links) with
 * highlighted code and its language named. The model's text is never HTML: react-markdown does not
 * render raw HTML (no rehype-raw here), and its URL filter drops javascript: and similar links.
 */
import { memo, type ReactNode } from 'react';
import Markdown, { type Components } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import remarkGfm from 'remark-gfm';
import type { Element, ElementContent } from 'hast';

export interface AnswerMarkdownProps {
  text: string;
  /** A copy control for a finished code block (its text); none while the answer streams. */
  codeAction?: ((code: string) => ReactNode) | undefined;
}

const remarkPlugins = [remarkGfm];
// Only fences that name a language are highlighted: guessing one for every snippet costs time per token and often guesses wrong.
const rehypePlugins = [[rehypeHighlight, { detect: false }] as const] as never;

function textOf(node: ElementContent | Element): string {
  if (node.type === 'text') return node.value;
  if (node.type === 'element') return node.children.map(textOf).join('');
  return '';
}

/** The fence's language as its code element's class names it (`language-python`). */
function languageOf(pre: Element): string | null {
  const code = pre.children.find((child): child is Element => child.type === 'element' && child.tagName === 'code');
  const classes = code?.properties?.['className'];
  const names = Array.isArray(classes) ? classes.map(String) : [];
  return names.find((name) => name.startsWith('language-'))?.slice('language-'.length) ?? null;
}

export const AnswerMarkdown = memo(function AnswerMarkdown({ text, codeAction }: AnswerMarkdownProps) {
  const components: Components = {
    pre({ node, children }) {
      const language = node ? languageOf(node) : null;
      const code = node ? textOf(node).replace(/\n$/, '') : '';
      return (
        <div className="code-block" data-testid="code-block" data-language={language ?? ''}>
          {language && (
            <span className="code-language" data-testid="code-language" aria-hidden>
              {language}
            </span>
          )}
          <pre data-language={language ?? undefined}>{children}</pre>
          {codeAction?.(code)}
        </div>
      );
    },
    a({ href, children }) {
      return (
        <a href={href} target="_blank" rel="noreferrer noopener">
          {children}
        </a>
      );
    },
    table({ children }) {
      return (
        <div className="table-scroll">
          <table>{children}</table>
        </div>
      );
    },
  };
  return (
    <Markdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components}>
      {text}
    </Markdown>
  );
});
