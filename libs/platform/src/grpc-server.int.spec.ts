import { Writable } from 'node:stream';
import { createChannel, createClient, type Channel } from 'nice-grpc';
import { ClientError, ServerError, Status, type Metadata } from 'nice-grpc-common';
import { HealthDefinition } from 'nice-grpc-server-health';
import { NotFoundError, UnavailableError, ValidationError } from './errors';
import { createGrpcServer, type GrpcServer } from './grpc-server';
import { isLoopbackPeer } from './caller-auth';
import { createLogger } from './logger';

/** A hand-written generic definition (JSON on the wire) so this lib's test needs no generated code. */
const json = {
  requestSerialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  requestDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
  responseSerialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  responseDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
};
const EchoDefinition = {
  echo: { path: '/test.v1.Echo/Echo', requestStream: false, responseStream: false, options: {}, ...json },
  ticks: { path: '/test.v1.Echo/Ticks', requestStream: false, responseStream: true, options: {}, ...json },
} as const;

const logLines: string[] = [];
const logger = createLogger({
  name: 'grpc-test',
  level: 'info',
  destination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
});

describe('createGrpcServer over a real socket', () => {
  let server: GrpcServer;
  let channel: Channel;
  let port: number;

  beforeEach(async () => {
    server = createGrpcServer({
      logger,
      services: [
        {
          definition: EchoDefinition as never,
          implementation: {
            async echo(request: { text?: string; fail?: string }, context: { peer: string }) {
              if (request.fail === 'peer') return { text: context.peer };
              if (request.fail === 'validation') throw new ValidationError('text', 'must not be empty');
              if (request.fail === 'bug') throw new TypeError('secret internals at /srv/x.js');
              if (request.fail === 'missing') throw new NotFoundError('thing', request.text ?? '');
              if (request.fail === 'raw') throw new ServerError(Status.FAILED_PRECONDITION, request.text ?? '');
              if (request.fail === 'hang') await new Promise((resolve) => setTimeout(resolve, 5_000).unref());
              if (request.fail === 'throttled') {
                throw new UnavailableError('graph throttled the mailbox', { retryAfterMs: 1500, reason: 'GRAPH_THROTTLED' });
              }
              return { text: request.text };
            },
            async *ticks(_request: unknown, context: { signal: AbortSignal }) {
              for (let i = 0; ; i += 1) {
                yield { tick: i };
                await new Promise((resolve) => setTimeout(resolve, 20));
                if (context.signal.aborted) return;
              }
            },
          } as never,
        },
      ],
      defaultDeadlineMs: 200,
    });
    port = await server.listen('127.0.0.1', 0);
    channel = createChannel(`127.0.0.1:${port}`);
  });

  afterEach(async () => {
    channel.close();
    await server.shutdown(1_000);
  });

  it('serves grpc.health.v1 as SERVING for the server and each service, NOT_SERVING after shutdown starts', async () => {
    const health = createClient(HealthDefinition, channel);
    await expect(health.check({ service: '' })).resolves.toMatchObject({ status: 1 });
    await expect(health.check({ service: 'test.v1.Echo' })).resolves.toMatchObject({ status: 1 });
    server.setServing(false);
    await expect(health.check({ service: 'test.v1.Echo' })).resolves.toMatchObject({ status: 2 });
  });

  it('serves the same health status on a health-only port, which answers nothing else (UNIMPLEMENTED)', async () => {
    const healthPort = (await server.listenHealth?.('127.0.0.1', 0)) ?? 0;
    const healthChannel = createChannel(`127.0.0.1:${healthPort}`);
    try {
      const health = createClient(HealthDefinition, healthChannel);
      await expect(health.check({ service: 'test.v1.Echo' })).resolves.toMatchObject({ status: 1 });
      const echo = createClient(EchoDefinition as never, healthChannel) as unknown as {
        echo(request: unknown): Promise<unknown>;
      };
      await expect(echo.echo({ text: 'hi' })).rejects.toMatchObject({ code: Status.UNIMPLEMENTED });
      server.setServing(false);
      await expect(health.check({ service: '' })).resolves.toMatchObject({ status: 2 });
    } finally {
      healthChannel.close();
    }
  });

  it('reports a loopback caller in a form isLoopbackPeer recognises (development service trust)', async () => {
    const echo = createClient(EchoDefinition as never, channel) as unknown as {
      echo(request: unknown): Promise<{ text: string }>;
    };
    const { text: peer } = await echo.echo({ fail: 'peer' });
    expect(isLoopbackPeer(peer)).toBe(true);
  });

  it('maps a validation error to INVALID_ARGUMENT naming the field', async () => {
    const echo = createClient(EchoDefinition as never, channel) as unknown as {
      echo(request: unknown): Promise<unknown>;
    };
    await expect(echo.echo({ text: 'hi' })).resolves.toEqual({ text: 'hi' });
    const error = await echo.echo({ fail: 'validation' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ code: Status.INVALID_ARGUMENT, details: 'text: must not be empty' });
  });

  it("caps caller text in every error message, so a megabyte id cannot tear down the caller's HTTP/2 session", async () => {
    const echo = createClient(EchoDefinition as never, channel) as unknown as {
      echo(request: unknown): Promise<unknown>;
    };
    const megabyte = 'x'.repeat(1024 * 1024);
    const missing = (await echo.echo({ fail: 'missing', text: megabyte }).catch((caught: unknown) => caught)) as ClientError;
    expect({ code: missing.code, details: missing.details }).toEqual({
      code: Status.NOT_FOUND,
      details: `thing "${'x'.repeat(80)}"… not found`,
    });
    // A handler's own ServerError goes through the same mapper.
    const raw = (await echo.echo({ fail: 'raw', text: megabyte }).catch((caught: unknown) => caught)) as ClientError;
    expect({ code: raw.code, length: raw.details.length }).toEqual({ code: Status.FAILED_PRECONDITION, length: 1024 });
    // The same channel still works.
    await expect(echo.echo({ text: 'still here' })).resolves.toEqual({ text: 'still here' });
  });

  it('tells programs the cause and the wait in trailers, not in the message', async () => {
    const echo = createClient(EchoDefinition as never, channel) as unknown as {
      echo(request: unknown, options: { onTrailer: (trailer: Metadata) => void }): Promise<unknown>;
    };
    let trailer: Metadata | undefined;
    const error = await echo
      .echo({ fail: 'throttled' }, { onTrailer: (received) => (trailer = received) })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: Status.UNAVAILABLE, details: 'graph throttled the mailbox' });
    expect(trailer?.get('mailroute-error-code')).toBe('GRAPH_THROTTLED');
    expect(trailer?.get('retry-after-ms')).toBe('1500');
  });

  it('ends a call that arrived without a deadline after the default deadline, with DEADLINE_EXCEEDED', async () => {
    const echo = createClient(EchoDefinition as never, channel) as unknown as {
      echo(request: unknown): Promise<unknown>;
    };
    const started = Date.now();
    const error = await echo.echo({ fail: 'hang' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('hides an unexpected error behind INTERNAL and logs its stack', async () => {
    const echo = createClient(EchoDefinition as never, channel) as unknown as {
      echo(request: unknown): Promise<unknown>;
    };
    const error = await echo.echo({ fail: 'bug' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: Status.INTERNAL, details: 'internal error' });
    expect(logLines.join('')).toContain('secret internals');
  });

  it('ends open server streams when shutdown starts, so draining completes', async () => {
    const echo = createClient(EchoDefinition as never, channel) as unknown as {
      ticks(request: unknown): AsyncIterable<{ tick: number }>;
    };
    const received: number[] = [];
    const consuming = (async () => {
      for await (const message of echo.ticks({})) received.push(message.tick);
    })();
    while (received.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    const started = Date.now();
    await server.shutdown(5_000);
    await consuming;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(received.length).toBeGreaterThanOrEqual(3);
  });
});
