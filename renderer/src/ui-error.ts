/**
 * Errors the renderer finds itself (a drop it cannot use), in the shape of the engine's: their
 * message and fix are i18n keys, translated where they are shown (`details.i18n`).
 */
import type { TFunction } from 'i18next';
import { NpllmError, type SerializedError } from '../../shared/errors.js';

export function uiError(messageKey: string, fixKey: string, values: Record<string, string | number> = {}): NpllmError {
  return new NpllmError('REQUEST_INVALID', messageKey, { fix: fixKey, details: { i18n: true, values } });
}

export interface ErrorText {
  /** A heading in the reader's language by error code, above the engine's English words; null when the renderer translated them. */
  title: string | null;
  message: string;
  fix: string | undefined;
}

/**
 * The message and fix as shown: translated when the renderer made them (`details.i18n`: true when
 * message and fix are keys, or the keys of an error whose message is in English for the logs),
 * the engine's words (English) otherwise, under a heading by error code in the reader's language.
 */
export function errorText(error: SerializedError, t: TFunction): ErrorText {
  const i18n = error.details?.['i18n'];
  if (i18n === true) {
    const values = (error.details?.['values'] ?? {}) as Record<string, unknown>;
    return { title: null, message: t(error.message, values), fix: error.fix === undefined ? undefined : t(error.fix, values) };
  }
  if (i18n && typeof i18n === 'object') {
    const keys = i18n as { message: string; fix?: string; values?: Record<string, unknown> };
    return {
      title: null,
      message: t(keys.message, { ...keys.values, defaultValue: error.message }),
      fix: keys.fix ? t(keys.fix, { ...keys.values, defaultValue: error.fix }) : error.fix,
    };
  }
  return { title: t(`error.title.${error.code}`, { defaultValue: t('error.title.generic') }), message: error.message, fix: error.fix };
}
