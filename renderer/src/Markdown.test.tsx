import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { describe, expect, it } from 'vitest';
import { AnswerMarkdown } from './Markdown.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

function render(text: string): HTMLElement {
  const container = document.createElement('div');
  const root = createRoot(container);
  act(() => root.render(<AnswerMarkdown text={text} />));
  return container;
}

describe('answers as Markdown', () => {
  it('renders GFM: headings, lists, tables, task lists, strikethrough, links', () => {
    const html = render('## Steps\n\n1. one\n2. two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n~~old~~ [docs](https://example.com)');
    expect(html.querySelector('h2')?.textContent).toBe('Steps');
    expect(html.querySelectorAll('ol li')).toHaveLength(2);
    expect(html.querySelectorAll('table td')).toHaveLength(2);
    expect(html.querySelector('input[type="checkbox"]')).not.toBeNull();
    expect(html.querySelector('del')?.textContent).toBe('old');
    expect(html.querySelector('a')?.getAttribute('href')).toBe('https://example.com');
    expect(html.querySelector('a')?.getAttribute('rel')).toContain('noopener');
  });

  it('highlights fenced code and names its language', () => {
    const html = render('```python\ndef f():\n    return 1\n```');
    expect(html.querySelector('[data-testid="code-language"]')?.textContent).toBe('python');
    expect(html.querySelector('pre code .hljs-keyword')?.textContent).toBe('def');
    expect(html.querySelector('pre code')?.textContent).toBe('def f():\n    return 1\n');
  });

  it("never renders the model's HTML, nor javascript: links", () => {
    const html = render('<img src=x onerror="alert(1)"> <script>alert(1)</script> <b>bold?</b>\n\n[click](javascript:alert(1))');
    expect(html.querySelector('img, script, b')).toBeNull();
    expect(html.querySelector('a')?.getAttribute('href') ?? '').not.toContain('javascript');
  });

  it('an unknown language is shown as plain code', () => {
    const html = render('```klingon\nqapla\n```');
    expect(html.querySelector('pre code')?.textContent).toBe('qapla\n');
    expect(html.querySelector('[data-testid="code-language"]')?.textContent).toBe('klingon');
  });
});
