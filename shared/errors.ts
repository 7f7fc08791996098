/**
 * Errors cross process boundaries (utility process → main → renderer, server → HTTP client),
 * so every error npllm raises on purpose is an `NpllmError` with a stable `code`, a `fix` telling
 * the user what to do, and a `cause` chain that survives `toJSON`/`fromJSON`.
 */

export const errorCodes = {
  CONFIG_INVALID: { status: 400, exitCode: 2 },
  CONFIG_NOT_FOUND: { status: 400, exitCode: 2 },
  MODEL_NOT_FOUND: { status: 503, exitCode: 3 },
  MODEL_INVALID: { status: 503, exitCode: 3 },
  MODEL_DOWNLOAD_FAILED: { status: 503, exitCode: 3 },
  MODEL_LOAD_FAILED: { status: 503, exitCode: 3 },
  GENERATION_FAILED: { status: 500, exitCode: 1 },
  ADAPTER_NOT_FOUND: { status: 404, exitCode: 3 },
  ADAPTER_INVALID: { status: 422, exitCode: 3 },
  ADAPTER_MISMATCH: { status: 422, exitCode: 3 },
  LEARNING_NO_DATA: { status: 422, exitCode: 2 },
  LEARNING_FAILED: { status: 500, exitCode: 1 },
  MODULATOR_INVALID: { status: 422, exitCode: 3 },
  MODULATOR_NO_DATA: { status: 422, exitCode: 2 },
  DATA_DIR_UNWRITABLE: { status: 500, exitCode: 4 },
  DATABASE_LOCKED: { status: 503, exitCode: 4 },
  DATABASE_UNAVAILABLE: { status: 503, exitCode: 4 },
  DATABASE_MIGRATION_FAILED: { status: 500, exitCode: 4 },
  QUERY_EMPTY: { status: 400, exitCode: 2 },
  QUERY_TOO_LONG: { status: 413, exitCode: 2 },
  /** Text no model or database should see: a NUL character, a lone UTF-16 surrogate, bytes that are not UTF-8. */
  QUERY_INVALID: { status: 400, exitCode: 2 },
  REQUEST_INVALID: { status: 400, exitCode: 2 },
  REQUEST_TOO_LARGE: { status: 413, exitCode: 2 },
  UNAUTHORIZED: { status: 401, exitCode: 2 },
  /** A browser request from another site, or addressed to a host name the server does not answer to (DNS rebinding). */
  FORBIDDEN_ORIGIN: { status: 403, exitCode: 2 },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, exitCode: 2 },
  NOT_FOUND: { status: 404, exitCode: 2 },
  CONFLICT: { status: 409, exitCode: 2 },
  METHOD_NOT_ALLOWED: { status: 405, exitCode: 2 },
  CANCELLED: { status: 499, exitCode: 130 },
  INTERNAL: { status: 500, exitCode: 1 },
} as const satisfies Record<string, { status: number; exitCode: number }>;

export type ErrorCode = keyof typeof errorCodes;

export interface SerializedError {
  name: string;
  code: ErrorCode;
  message: string;
  fix?: string;
  details?: Record<string, unknown>;
  cause?: SerializedError | { name: string; message: string };
}

export interface NpllmErrorOptions {
  fix?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class NpllmError extends Error {
  override name = 'NpllmError';
  readonly code: ErrorCode;
  readonly fix: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: NpllmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fix = options.fix;
    this.details = options.details;
  }

  get status(): number {
    return errorCodes[this.code].status;
  }

  get exitCode(): number {
    return errorCodes[this.code].exitCode;
  }

  /** One paragraph a person can act on: what went wrong, then what to do. */
  describe(): string {
    return this.fix ? `${this.message}\n  fix: ${this.fix}` : this.message;
  }

  toJSON(): SerializedError {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.fix ? { fix: this.fix } : {}),
      ...(this.details ? { details: this.details } : {}),
      ...(this.cause === undefined ? {} : { cause: serializeCause(this.cause) }),
    };
  }

  static fromJSON(json: SerializedError): NpllmError {
    const cause = json.cause
      ? 'code' in json.cause
        ? NpllmError.fromJSON(json.cause)
        : Object.assign(new Error(json.cause.message), { name: json.cause.name })
      : undefined;
    const ErrorClass = errorClassesByName[json.name] ?? NpllmError;
    const error = new ErrorClass(json.code, json.message, {
      ...(json.fix ? { fix: json.fix } : {}),
      ...(json.details ? { details: json.details } : {}),
      cause,
    });
    return error;
  }
}

function serializeCause(cause: unknown): SerializedError | { name: string; message: string } {
  const shown = withoutQueryText(cause);
  if (shown instanceof NpllmError) return shown.toJSON();
  if (shown instanceof Error) return { name: shown.name, message: shown.message };
  return { name: 'Error', message: String(shown) };
}

/**
 * drizzle wraps a driver's failure in an error whose message is the whole statement and its
 * parameters (`Failed query: insert into … params: …`): a user's question, a path, a token. Errors
 * cross to clients, logs and other processes, so only the driver's own error (`invalid byte
 * sequence …`) ever stands for it.
 */
export function withoutQueryText(error: unknown): unknown {
  let current = error;
  while (current instanceof Error && (current.name === 'DrizzleQueryError' || /^Failed query:/.test(current.message))) {
    if (!(current.cause instanceof Error)) return Object.assign(new Error('A database query failed.'), { name: 'DatabaseQueryError' });
    current = current.cause;
  }
  return current;
}

export class ConfigError extends NpllmError {
  override name = 'ConfigError';
}
export class ModelError extends NpllmError {
  override name = 'ModelError';
}
/** A LoRA adapter that is missing, damaged, or made for another base model (adapters/). */
export class AdapterError extends ModelError {
  override name = 'AdapterError';
}
export class LearningError extends NpllmError {
  override name = 'LearningError';
}
/** A modulator weights file that is missing, damaged or made for another layout; or nothing to learn from (modulator/). */
export class ModulatorError extends NpllmError {
  override name = 'ModulatorError';
}
export class DatabaseError extends NpllmError {
  override name = 'DatabaseError';
}
export class RequestError extends NpllmError {
  override name = 'RequestError';
}
export class CancelledError extends NpllmError {
  override name = 'CancelledError';
}

export function cancelled(message = 'The request was cancelled.'): CancelledError {
  return new CancelledError('CANCELLED', message);
}

const errorClassesByName: Record<string, new (code: ErrorCode, message: string, options?: NpllmErrorOptions) => NpllmError> = {
  NpllmError,
  ConfigError,
  ModelError,
  AdapterError,
  LearningError,
  ModulatorError,
  DatabaseError,
  RequestError,
  CancelledError,
};

/** Anything thrown becomes an NpllmError; unknown failures are INTERNAL with the original as cause. */
export function toNpllmError(error: unknown): NpllmError {
  if (error instanceof NpllmError) return error;
  const shown = withoutQueryText(error);
  const message = shown instanceof Error ? shown.message : String(shown);
  return new NpllmError('INTERNAL', `Unexpected failure: ${message}`, {
    cause: error,
    fix: 'This is a bug in npllm. Re-run with NPLLM_LOG_LEVEL=debug and report the log.',
  });
}

export function isSerializedError(value: unknown): value is SerializedError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SerializedError).code === 'string' &&
    (value as SerializedError).code in errorCodes &&
    typeof (value as SerializedError).message === 'string'
  );
}
