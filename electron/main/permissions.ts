/**
 * The app asks the browser for nothing but writing to the clipboard (the Copy buttons): every
 * other permission (camera, microphone, geolocation, notifications, …) is refused, and even that
 * one only for the app's own page.
 */
import type { Session } from 'electron';

const granted = new Set(['clipboard-sanitized-write']);

export function restrictPermissions(
  session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>,
  isApp: (url: string) => boolean,
): void {
  session.setPermissionRequestHandler((webContents, permission, callback, details) => {
    callback(granted.has(permission) && isApp(details.requestingUrl ?? webContents.getURL()));
  });
  session.setPermissionCheckHandler((_webContents, permission, requestingOrigin) => granted.has(permission) && isApp(requestingOrigin));
}
