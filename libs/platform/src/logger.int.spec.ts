import { Writable } from 'node:stream';
import { context, propagation, trace } from '@opentelemetry/api';
import { createChannel, createClient, Metadata } from 'nice-grpc';
import { AccessTokenServiceDefinition, descriptorSet } from '@mailroute/contracts';
import { createGrpcServer, serve } from './grpc-server';
import { createLogger } from './logger';
import { registerTracePropagation } from './telemetry';

function capture(level: 'info' | 'debug' = 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    name: 'logger-test',
    level,
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  });
  return { logger, lines };
}

describe('createLogger and OpenTelemetry spans', () => {
  beforeAll(() => registerTracePropagation());

  it('adds trace_id and span_id of the active span, and nothing outside a span', () => {
    const { logger, lines } = capture();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spanId = '00f067aa0ba902b7';
    logger.info('outside');
    context.with(trace.setSpanContext(context.active(), { traceId, spanId, traceFlags: 1 }), () =>
      logger.info({ step: 1 }, 'inside'),
    );
    context.with(trace.setSpanContext(context.active(), { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }), () =>
      logger.info('invalid context'),
    );
    expect(lines.map((l) => [l['msg'], l['trace_id'], l['span_id']])).toEqual([
      ['outside', undefined, undefined],
      ['inside', traceId, spanId],
      ['invalid context', undefined, undefined],
    ]);
    expect(lines[1]).toMatchObject({ service: 'logger-test', level: 'info', step: 1 });
  });

  it('keeps the trace ids on a child logger and still redacts secrets on the same line', () => {
    const { logger, lines } = capture();
    const traceId = 'a3ce929d0e0e47364bf92f3577b34da6';
    context.with(trace.setSpanContext(context.active(), { traceId, spanId: 'b7ad6b7169203331', traceFlags: 1 }), () =>
      logger.child({ component: 'c' }).warn({ clientSecret: 'hunter2-very-secret' }, 'Bearer abcdefghijklmnop failed'),
    );
    expect(lines[0]).toMatchObject({
      trace_id: traceId,
      span_id: 'b7ad6b7169203331',
      component: 'c',
      clientSecret: '[REDACTED]',
      msg: 'Bearer [REDACTED] failed',
    });
  });

  it('logs a gRPC handler line with the caller’s trace id (W3C traceparent over a real socket)', async () => {
    const { logger, lines } = capture();
    const server = createGrpcServer({
      logger,
      descriptorSet,
      services: [
        serve(AccessTokenServiceDefinition, {
          async getAccessToken(request) {
            logger.info({ tenant: request.tenantId }, 'handler ran');
            return { accessToken: 'x', tokenType: 'Bearer', graphEndpoint: 'https://graph.microsoft.com', directoryId: 'd' };
          },
        }),
      ],
    });
    const port = await server.listen('127.0.0.1', 0);
    const channel = createChannel(`127.0.0.1:${port}`);
    const callerTraceId = '0af7651916cd43dd8448eb211c80319c';
    const metadata: Record<string, string> = {};
    propagation.inject(
      trace.setSpanContext(context.active(), {
        traceId: callerTraceId,
        spanId: 'b7ad6b7169203331',
        traceFlags: 1,
        isRemote: true,
      }),
      metadata,
    );
    try {
      await createClient(AccessTokenServiceDefinition, channel).getAccessToken(
        { tenantId: 't1' },
        { metadata: Metadata(metadata) },
      );
    } finally {
      channel.close();
      await server.shutdown(1_000);
    }
    const line = lines.find((l) => l['msg'] === 'handler ran');
    expect(line).toMatchObject({ tenant: 't1', trace_id: callerTraceId });
    expect(line?.['span_id']).toMatch(/^[0-9a-f]{16}$/);
  });
});
