/** The tray icon: a quick question from anywhere, and the way to quit while the window is hidden. */
import { Menu, nativeImage, Tray } from 'electron';

// A 32×32 "›_" prompt, inline so the tray needs no file that packaging could misplace.
const iconDataUrl =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAkklEQVR42u2XXQqAMAyDexlP5vE9xMQXEZyYlqaZzMDeBvko/TV70LJuLfMZomxTF0yVeRei2vwGMTeAyvyEQD4dkgFcVQ7QkzQCDAg4B1gQcBWwIFxlyIBw94FsiFAjyoQId8IsiO9FQJoD0iqQ9gHE/E3UWYCKMg29ouwDtAh4NqJwDvxb8RAA8tNsiONUdZ7vcVAJRQilHJAAAAAASUVORK5CYII=';

export interface TrayActions {
  quickQuestion(): void;
  showWindow(): void;
  quit(): void;
}

export function createTray(actions: TrayActions): Tray {
  const tray = new Tray(nativeImage.createFromDataURL(iconDataUrl).resize({ width: 16, height: 16 }));
  tray.setToolTip('npllm: ask your local code assistant');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Quick question…', click: () => actions.quickQuestion() },
      { label: 'Show npllm', click: () => actions.showWindow() },
      { type: 'separator' },
      { label: 'Quit npllm', click: () => actions.quit() },
    ]),
  );
  tray.on('click', () => actions.quickQuestion());
  return tray;
}
