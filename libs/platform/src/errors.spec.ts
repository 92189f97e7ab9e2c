import { ClientError, ServerError, Status } from 'nice-grpc-common';
import {
  AlreadyExistsError,
  ConflictError,
  FailedPreconditionError,
  MailrouteError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
  ValidationError,
} from './errors';
import { internalErrorMessage, toGrpcStatus } from './grpc-status';
import { isRetryable, RetriesExhaustedError, withRetry } from './retry';

describe('toGrpcStatus', () => {
  it.each([
    [
      new ValidationError('mailbox.address', 'must be an email address'),
      Status.INVALID_ARGUMENT,
      'mailbox.address: must be an email address',
    ],
    [new NotFoundError('mailbox', 'm1'), Status.NOT_FOUND, 'mailbox "m1" not found'],
    [new AlreadyExistsError('tenant', 't1'), Status.ALREADY_EXISTS, 'tenant "t1" already exists'],
    [new PermissionDeniedError('not your tenant'), Status.PERMISSION_DENIED, 'not your tenant'],
    [new FailedPreconditionError('admin consent missing'), Status.FAILED_PRECONDITION, 'admin consent missing'],
    [new ConflictError('stale version'), Status.ABORTED, 'stale version'],
    [new UnavailableError('graph throttled'), Status.UNAVAILABLE, 'graph throttled'],
  ])('maps %p to its status with the caller-facing message', (error, status, message) => {
    expect(toGrpcStatus(error)).toEqual({ status, message, unexpected: false });
  });

  it('hides unknown errors behind a generic INTERNAL and flags them for the log', () => {
    expect(toGrpcStatus(new TypeError('cannot read x of undefined at /srv/app.js'))).toEqual({
      status: Status.INTERNAL,
      message: internalErrorMessage,
      unexpected: true,
    });
    expect(toGrpcStatus(new MailrouteError('INTERNAL', 'db password wrong'))).toMatchObject({ message: internalErrorMessage });
  });

  it('keeps a deliberate ServerError and turns a downstream outage into UNAVAILABLE', () => {
    expect(toGrpcStatus(new ServerError(Status.UNIMPLEMENTED, 'later'))).toMatchObject({ status: Status.UNIMPLEMENTED });
    expect(toGrpcStatus(new ClientError('/x.Y/Z', Status.UNAVAILABLE, 'connect ECONNREFUSED'))).toMatchObject({
      status: Status.UNAVAILABLE,
    });
    expect(toGrpcStatus(new ClientError('/x.Y/Z', Status.PERMISSION_DENIED, 'no'))).toMatchObject({
      status: Status.INTERNAL,
    });
  });
});

describe('withRetry', () => {
  it('retries retryable failures and returns the first success', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw new UnavailableError('busy');
        return 'ok';
      },
      { initialDelayMs: 1 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('does not retry a non-retryable error', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls += 1;
        throw new ValidationError('x', 'bad');
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(calls).toBe(1);
  });

  it('keeps every attempt when it gives up', async () => {
    const error = await withRetry(
      async (attempt) => {
        throw new UnavailableError(`attempt ${attempt}`);
      },
      { maxAttempts: 3, initialDelayMs: 1 },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect((error as RetriesExhaustedError).attempts.map((a) => (a as Error).message)).toEqual([
      'attempt 1',
      'attempt 2',
      'attempt 3',
    ]);
  });

  it('waits at least the Retry-After a dependency asked for', async () => {
    const started = Date.now();
    let calls = 0;
    await withRetry(
      async () => {
        calls += 1;
        if (calls === 1) throw new UnavailableError('429', { retryAfterMs: 150 });
      },
      { initialDelayMs: 1 },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('reads retryability from properties, never from messages', () => {
    expect(isRetryable(new Error('UNAVAILABLE please retry'))).toBe(false);
    expect(isRetryable(Object.assign(new Error('x'), { retriable: true }))).toBe(true);
    expect(isRetryable(new ClientError('/a/b', Status.UNAVAILABLE, ''))).toBe(true);
  });
});
