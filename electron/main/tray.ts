/** The tray icon: a quick question from anywhere, and the way to quit while the window is hidden. */
import { Menu, nativeImage, Tray } from 'electron';
import type { DesktopLabels } from './labels.js';

// A 32×32 "›_" prompt, inline so the tray needs no file that packaging could misplace.
const iconDataUrl =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAkklEQVR42u2XXQqAMAyDexlP5vE9xMQXEZyYlqaZzMDeBvko/TV70LJuLfMZomxTF0yVeRei2vwGMTeAyvyEQD4dkgFcVQ7QkzQCDAg4B1gQcBWwIFxlyIBw94FsiFAjyoQId8IsiO9FQJoD0iqQ9gHE/E3UWYCKMg29ouwDtAh4NqJwDvxb8RAA8tNsiONUdZ7vcVAJRQilHJAAAAAASUVORK5CYII=';

export interface TrayActions {
  quickQuestion(): void;
  showWindow(): void;
  quit(): void;
}

export function createTray(actions: TrayActions, labels: DesktopLabels): Tray {
  const tray = new Tray(nativeImage.createFromDataURL(iconDataUrl).resize({ width: 16, height: 16 }));
  labelTray(tray, actions, labels);
  tray.on('click', () => actions.quickQuestion());
  return tray;
}

/** (Re)writes the tooltip and menu: at start, and when the language changes. */
export function labelTray(tray: Tray, actions: TrayActions, labels: DesktopLabels): void {
  tray.setToolTip(labels.tooltip);
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: labels.quickQuestion, click: () => actions.quickQuestion() },
      { label: labels.show, click: () => actions.showWindow() },
      { type: 'separator' },
      { label: labels.quit, click: () => actions.quit() },
    ]),
  );
}
