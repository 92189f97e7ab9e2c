import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { context, propagation, trace } from '@opentelemetry/api';
import { createChannel, createClient, Metadata } from 'nice-grpc';
import { AccessTokenServiceDefinition, descriptorSet } from '@mailroute/contracts';
import { createGrpcServer, serve } from './grpc-server';
import { createLogger } from './logger';
import { startTelemetry } from './telemetry';

const logger = createLogger({
  name: 'telemetry-test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});

describe('startTelemetry with an OTLP endpoint', () => {
  it('exports the spans of a real gRPC call to the collector over OTLP/HTTP, with the caller’s trace id', async () => {
    const received: {
      path: string | undefined;
      contentType: string | undefined;
      traceparent: string | undefined;
      body: Buffer;
    }[] = [];
    const collector = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({
          path: request.url,
          contentType: request.headers['content-type'],
          traceparent: request.headers['traceparent'] as string | undefined,
          body: Buffer.concat(chunks),
        });
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
      trace.setSpanContext(context.active(), {
        traceId: callerTraceId,
        spanId: 'b7ad6b7169203331',
        traceFlags: 1,
        isRemote: true,
      }),
      metadata,
    );
    // Outgoing fetch requests, inside a span and outside any.
    const parentSpanId = 'b7ad6b7169203331';
    const parent = trace.setSpanContext(context.active(), {
      traceId: callerTraceId,
      spanId: parentSpanId,
      traceFlags: 1,
      isRemote: true,
    });
    try {
      await createClient(AccessTokenServiceDefinition, channel).getAccessToken(
        { tenantId: 't1' },
        { metadata: Metadata(metadata) },
      );
      await context.with(parent, async () => {
        await (await fetch(`${endpoint}/probe-fetch`)).text();
      });
      await (await fetch(`${endpoint}/untraced-fetch`)).text();
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
    // The traced request carried its own client span's context (same trace, a new span id) and that span was exported.
    const probe = received.find((r) => r.path === '/probe-fetch');
    expect(probe?.traceparent).toMatch(new RegExp(`^00-${callerTraceId}-[0-9a-f]{16}-01$`));
    expect(probe?.traceparent).not.toContain(parentSpanId);
    expect(body.includes(Buffer.from('/probe-fetch'))).toBe(true);
    // Outside any span: no context sent, no span; nor for the exporter's own requests.
    expect(received.find((r) => r.path === '/untraced-fetch')?.traceparent).toBeUndefined();
    expect(body.includes(Buffer.from('/untraced-fetch'))).toBe(false);
    expect(body.includes(Buffer.from('/v1/traces'))).toBe(false);
  });
});

describe('startTelemetry in a service process', () => {
  it('instruments the `http` module in a process run as the services run (tsx): a client span per request under a span, none outside', async () => {
    const collector = createServer((request, response) => request.resume().on('end', () => response.writeHead(200).end()));
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const root = path.resolve(__dirname, '..', '..', '..');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'telemetry-http-child.ts')], {
      cwd: root,
      env: {
        PATH: process.env['PATH'] ?? '',
        TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.base.json'),
        CHILD_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise((resolve) => collector.close(resolve));
    expect({ code, output }).toMatchObject({ code: 0 });
    const { parent, seen } = JSON.parse(output.trim().split('\n').pop() ?? '{}') as {
      parent: { traceId: string; spanId: string };
      seen: Record<string, string | null>;
    };
    // The request carried a new (client) span of the parent's trace, not the parent itself.
    expect(seen['/traced']).toMatch(new RegExp(`^00-${parent.traceId}-[0-9a-f]{16}-01$`));
    expect(seen['/traced']).not.toContain(parent.spanId);
    expect(seen['/untraced']).toBeNull();
  }, 60_000);
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
