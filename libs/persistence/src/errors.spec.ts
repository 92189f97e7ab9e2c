import { MongoNetworkError, MongoServerError } from 'mongodb';
import { UnavailableError } from '@mailroute/platform';
import { isTransientServerError, StoreUnavailableError, toStoreError } from './errors';

const serverError = (fields: { message: string; code?: number; errorLabels?: string[] }) => new MongoServerError({ ...fields });

describe('toStoreError', () => {
  it('makes a busy FerretDB (SQLite write lock) a retryable unavailable error naming the store', () => {
    const busy = serverError({
      message: '[collection.go:177 sqlite.(*collection).UpdateAll.func1] database is locked (5) (SQLITE_BUSY)',
      code: 1,
    });
    const mapped = toStoreError('router_slots', busy);
    expect(mapped).toBeInstanceOf(StoreUnavailableError);
    expect(mapped).toBeInstanceOf(UnavailableError);
    expect((mapped as StoreUnavailableError).retryable).toBe(true);
    expect((mapped as Error).message).toContain('router_slots');
    expect((mapped as Error & { cause?: unknown }).cause).toBe(busy);
  });

  it('retries failovers, shutdowns, time limits and labelled retryable writes', () => {
    for (const code of [91, 189, 10107, 11600, 50, 262])
      expect(isTransientServerError(serverError({ message: `code ${code}`, code }))).toBe(true);
    expect(isTransientServerError(serverError({ message: 'write failed', code: 1, errorLabels: ['RetryableWriteError'] }))).toBe(
      true,
    );
  });

  it('passes duplicate keys and bad commands through unchanged', () => {
    const duplicate = serverError({ message: 'E11000 duplicate key error', code: 11000 });
    const bad = serverError({ message: 'unknown operator: $foo', code: 2 });
    expect(toStoreError('t', duplicate)).toBe(duplicate);
    expect(toStoreError('t', bad)).toBe(bad);
    expect(isTransientServerError(new Error('database is locked'))).toBe(false); // not a server answer
  });

  it('still maps connection failures', () => {
    expect(toStoreError('t', new MongoNetworkError('connection reset'))).toBeInstanceOf(StoreUnavailableError);
  });
});
