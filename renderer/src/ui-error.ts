/**
 * Errors the renderer finds itself (a drop it cannot use), in the shape of the engine's: their
 * message and fix are i18n keys, translated where they are shown (`details.i18n`).
 */
import type { TFunction } from 'i18next';
import { NpllmError, type SerializedError } from '../../shared/errors.js';

export function uiError(messageKey: string, fixKey: string, values: Record<string, string | number> = {}): NpllmError {
  return new NpllmError('REQUEST_INVALID', messageKey, { fix: fixKey, details: { i18n: true, values } });
}

/** The message and fix as shown: translated when the renderer made them, the engine's words otherwise. */
export function errorText(error: SerializedError, t: TFunction): { message: string; fix: string | undefined } {
  if (error.details?.['i18n'] !== true) return { message: error.message, fix: error.fix };
  const values = (error.details['values'] ?? {}) as Record<string, unknown>;
  return { message: t(error.message, values), fix: error.fix === undefined ? undefined : t(error.fix, values) };
}
