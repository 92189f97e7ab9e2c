import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { context, propagation, trace } from '@opentelemetry/api';
import { createChannel, createClient, Metadata } from 'nice-grpc';
import { AccessTokenServiceDefinition, descriptorSet } from '@mailroute/contracts';
import { createGrpcServer, serve } from './grpc-server';
import { createLogger } from './logger';
import { startTelemetry } from './telemetry';

const logger = createLogger({ name: 'telemetry-test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });

describe('startTelemetry with an OTLP endpoint', () => {
  it('exports the spans of a real gRPC call to the collector over OTLP/HTTP, with the caller’s trace id', async () => {
    const received: { path: string | undefined; contentType: string | undefined; body: Buffer }[] = [];
    const collector = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ path: request.url, contentType: request.headers['content-type'], body: Buffer.concat(chunks) });
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const telemetry = startTelemetry({ serviceName: 'auth-broker-under-test', otlpEndpoint: endpoint });
    expect(telemetry.exporting).toBe(true);

    let handlerTraceId: string | undefined;
    const server = createGrpcServer({
      logger,
      descriptorSet,
      services: [
        serve(AccessTokenServiceDefinition, {
          async getAccessToken() {
            handlerTraceId = trace.getSpanContext(context.active())?.traceId;
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
      trace.setSpanContext(context.active(), { traceId: callerTraceId, spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true }),
      metadata,
    );
    try {
      await createClient(AccessTokenServiceDefinition, channel).getAccessToken({ tenantId: 't1' }, { metadata: Metadata(metadata) });
    } finally {
      channel.close();
      await server.shutdown(1_000);
      await telemetry.shutdown();
      await new Promise((resolve) => collector.close(resolve));
    }
    expect(handlerTraceId).toBe(callerTraceId);
    const traces = received.filter((r) => r.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    expect(traces[0]?.contentType).toBe('application/x-protobuf');
    const body = Buffer.concat(traces.map((t) => t.body));
    expect(body.includes(Buffer.from('auth-broker-under-test'))).toBe(true);
    expect(body.includes(Buffer.from(callerTraceId, 'hex'))).toBe(true);
  });
});

describe('startTelemetry without an endpoint', () => {
  it('exports nothing but still propagates W3C trace context', () => {
    const telemetry = startTelemetry({ serviceName: 'quiet' });
    expect(telemetry.exporting).toBe(false);
    const carrier: Record<string, string> = {};
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    propagation.inject(trace.setSpanContext(context.active(), { traceId, spanId: '00f067aa0ba902b7', traceFlags: 1 }), carrier);
    expect(carrier['traceparent']).toBe(`00-${traceId}-00f067aa0ba902b7-01`);
  });
});
