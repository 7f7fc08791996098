/**
 * What the window asks of main itself, not of the engine: the native folder dialog, and (from the
 * quick-question window) showing a conversation in the main window.
 */
import type { IpcMainEvent, IpcMainInvokeEvent } from 'electron';
import { channels } from './bridge-protocol.js';
import { isTrustedSender } from './ipc.js';

export interface DesktopIpcMain {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  on(channel: string, listener: (event: IpcMainEvent, ...args: unknown[]) => void): unknown;
}

export interface DesktopActions {
  /** The open-folder dialog, parented to the asking window; resolves to the folder or null. */
  pickFolder(sender: IpcMainInvokeEvent['sender']): Promise<string | null>;
  /** Shows the main window, with this conversation if one is given. */
  openInMain(conversationId: string | null): void;
}

/** Like the engine's door (ipc.ts), only the top frame of the app's own page may ask: a dialog or a window raised by any other page is refused. */
export function registerDesktopIpc(ipcMain: DesktopIpcMain, actions: DesktopActions, isApp: (url: string) => boolean): void {
  ipcMain.handle(channels.pickFolder, async (event) => (isTrustedSender(event, isApp) ? actions.pickFolder(event.sender) : null));
  ipcMain.on(channels.openInMain, (event, conversationId) => {
    if (!isTrustedSender(event, isApp)) return;
    // The id becomes a message to the main window's renderer: only a plain short id goes through.
    const id = typeof conversationId === 'string' && /^[A-Za-z0-9._:-]{1,100}$/.test(conversationId) ? conversationId : null;
    actions.openInMain(id);
  });
}

/** The folder dialog's answer as the renderer gets it. */
export function chosenFolder(result: { canceled: boolean; filePaths: string[] }): string | null {
  return result.canceled ? null : (result.filePaths[0] ?? null);
}
