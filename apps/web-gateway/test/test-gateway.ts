import path from 'node:path';
import { createLogger, loadConfig, type Env } from '@mailroute/platform';
import { configSchema } from '../src/config';
import { wireWebGateway, type WebGatewayParts } from '../src/wiring';

/** The test page (index.html with a refused inline script, and a small gRPC-web client as a file). */
const testPageDir = path.join(__dirname, 'test-page');

export interface TestGateway {
  /** `http://127.0.0.1:<port>` */
  url: string;
  parts: WebGatewayParts;
  stop(): Promise<void>;
}

/** The gateway's own composition root on 127.0.0.1:0, serving the test page, with `env` on top of test defaults. */
export async function startTestGateway(env: Env): Promise<TestGateway> {
  const config = loadConfig(configSchema, { WEB_GATEWAY_ASSETS_DIR: testPageDir, WEB_GATEWAY_METRICS_PORT: '0', ...env });
  const logger = createLogger({ name: 'web-gateway-test', level: process.env['WEB_GATEWAY_TEST_DEBUG'] ? 'debug' : 'silent' });
  const parts = await wireWebGateway(config, logger);
  const port = await parts.server.listen('127.0.0.1', 0);
  return {
    url: `http://127.0.0.1:${port}`,
    parts,
    async stop() {
      await parts.server.shutdown(1_000);
      for (const step of parts.closeAfterServer ?? []) await step.run();
    },
  };
}

/** What the test page's client received: status, headers and frames (payloads base64). */
export interface PageCall {
  status: number;
  headers: Record<string, string>;
  frames: { flag: number; payload: string }[];
  done: boolean;
  error: string | null;
}

/** The data frames' messages and the gRPC status, from the trailer frame or (trailers-only) the headers. */
export function readCall(call: PageCall): {
  messages: Buffer[];
  code: number | undefined;
  message: string;
  trailers: Map<string, string>;
} {
  const messages = call.frames.filter((frame) => frame.flag === 0).map((frame) => Buffer.from(frame.payload, 'base64'));
  const trailers = new Map<string, string>();
  const trailerFrame = call.frames.find((frame) => frame.flag === 0x80);
  if (trailerFrame) {
    for (const line of Buffer.from(trailerFrame.payload, 'base64').toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
  } else {
    for (const [name, value] of Object.entries(call.headers)) if (name.startsWith('grpc-')) trailers.set(name, value);
  }
  const status = trailers.get('grpc-status');
  return {
    messages,
    code: status === undefined ? undefined : Number(status),
    message: decodeURIComponent(trailers.get('grpc-message') ?? ''),
    trailers,
  };
}

/** What the test page puts on `window` (for typing the functions the tests run in the page). */
export interface TestPageGlobals {
  grpcWeb: {
    open(path: string, messageBase64: string, token: string | undefined): number;
    read(index: number): PageCall;
    pause(index: number): void;
    resume(index: number): void;
    abort(index: number): void;
    unary(path: string, messageBase64: string, token: string | undefined): Promise<PageCall>;
    upload(
      url: string,
      bodyBase64: string,
      token: string | undefined,
      contentType: string,
    ): Promise<{ status: number; body: string }>;
  };
  inlineScriptRan?: boolean;
  document: { getElementById(id: string): { textContent: string | null } | null };
  fetch(url: string): Promise<{ json(): Promise<unknown> }>;
}
