import { describe, expect, it } from 'vitest';
import { ConfigError, DatabaseError, NpllmError, cancelled, errorCodes, isSerializedError, toNpllmError } from './errors.js';

describe('NpllmError', () => {
  it('survives a trip through JSON with its class, code, fix, details and cause chain', () => {
    const root = new Error('ECONNREFUSED 127.0.0.1:5432');
    const inner = new DatabaseError('DATABASE_UNAVAILABLE', 'Cannot reach the database.', { cause: root, fix: 'Start it.' });
    const outer = new ConfigError('CONFIG_INVALID', 'Bad config.', { cause: inner, details: { key: 'database.url' } });

    const copy = NpllmError.fromJSON(JSON.parse(JSON.stringify(outer)) as ReturnType<NpllmError['toJSON']>);

    expect(copy).toBeInstanceOf(ConfigError);
    expect(copy.code).toBe('CONFIG_INVALID');
    expect(copy.details).toEqual({ key: 'database.url' });
    const copiedInner = copy.cause as NpllmError;
    expect(copiedInner).toBeInstanceOf(DatabaseError);
    expect(copiedInner.fix).toBe('Start it.');
    expect((copiedInner.cause as Error).message).toBe('ECONNREFUSED 127.0.0.1:5432');
  });

  it('maps every code to an HTTP status and a non-zero exit code', () => {
    for (const code of Object.keys(errorCodes) as (keyof typeof errorCodes)[]) {
      const error = new NpllmError(code, 'x');
      expect(error.status).toBeGreaterThanOrEqual(400);
      expect(error.exitCode).toBeGreaterThan(0);
    }
    expect(cancelled().status).toBe(499);
  });

  it('describes the problem and then the fix', () => {
    expect(new NpllmError('QUERY_EMPTY', 'The question is empty.', { fix: 'Type one.' }).describe()).toBe('The question is empty.\n  fix: Type one.');
  });

  it('wraps foreign errors as INTERNAL, keeping the original as cause', () => {
    const original = new TypeError('boom');
    const wrapped = toNpllmError(original);
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.cause).toBe(original);
    expect(toNpllmError(wrapped)).toBe(wrapped);
  });

  it('recognises serialized errors and rejects look-alikes', () => {
    expect(isSerializedError(new NpllmError('NOT_FOUND', 'x').toJSON())).toBe(true);
    expect(isSerializedError({ code: 'NOPE', message: 'x' })).toBe(false);
    expect(isSerializedError('NOT_FOUND')).toBe(false);
  });
});
