/**
 * Copies text for the Copy buttons. `navigator.clipboard` exists only in secure contexts (the
 * desktop app, localhost); a server reached over plain HTTP by address gets the older
 * execCommand('copy') on a hidden textarea, which still works inside a click.
 */
export async function copyText(text: string): Promise<boolean> {
  // Typed as always present, but absent outside secure contexts.
  const clipboard = navigator.clipboard as Clipboard | undefined;
  if (clipboard?.writeText) {
    try {
      await clipboard.writeText(text);
      return true;
    } catch {
      // Refused (permissions, unfocused document): the fallback may still be allowed.
    }
  }
  return copyWithSelection(text);
}

function copyWithSelection(text: string): boolean {
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  document.body.append(area);
  area.focus();
  area.select();
  try {
    // Deprecated, but the only way to copy outside a secure context.
    return typeof document.execCommand === 'function' && document.execCommand('copy');
  } catch {
    return false;
  } finally {
    area.remove();
    focused?.focus();
  }
}
