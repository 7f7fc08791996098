import { afterEach, describe, expect, it, vi } from 'vitest';
import { copyText } from './clipboard.js';

describe('copyText', () => {
  afterEach(() => {
    delete (navigator as { clipboard?: unknown }).clipboard;
    delete (document as { execCommand?: unknown }).execCommand;
  });

  it('uses the Clipboard API where there is one', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await expect(copyText('print(1)')).resolves.toBe(true);
    expect(writeText).toHaveBeenCalledWith('print(1)');
  });

  it('falls back to a selected hidden textarea outside secure contexts, and gives focus back', async () => {
    const input = document.body.appendChild(document.createElement('textarea'));
    input.focus();
    let copied: string | null = null;
    Object.defineProperty(document, 'execCommand', {
      value: vi.fn((command: string) => {
        const area = document.activeElement as HTMLTextAreaElement;
        copied = command === 'copy' ? area.value.slice(area.selectionStart, area.selectionEnd) : null;
        return true;
      }),
      configurable: true,
    });
    await expect(copyText('print(1)')).resolves.toBe(true);
    expect(copied).toBe('print(1)');
    expect(document.activeElement).toBe(input);
    expect(document.querySelectorAll('textarea')).toHaveLength(1);
    input.remove();
  });

  it('reports failure when neither works', async () => {
    Object.defineProperty(navigator, 'clipboard', { value: { writeText: () => Promise.reject(new Error('denied')) }, configurable: true });
    Object.defineProperty(document, 'execCommand', { value: () => false, configurable: true });
    await expect(copyText('x')).resolves.toBe(false);
  });
});
