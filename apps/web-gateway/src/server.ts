import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@mailroute/platform';
import { createConsoleAssets, type ConsoleRuntimeConfig } from './assets/console-assets';
import { createGrpcWebBridge } from './grpc-web/grpc-web-bridge';
import type { UpstreamRoutes } from './grpc-web/upstream-routes';
import { contentSecurityPolicy, securityHeaders } from './http/content-security-policy';
import type { WebGatewayMetrics } from './metrics/web-gateway.metrics';
import { createReplyAttachmentUpload, replyAttachmentUploadPath } from './uploads/reply-attachment-upload';

export interface GatewayDeps {
  logger: Logger;
  routes: UpstreamRoutes;
  metrics: WebGatewayMetrics;
  assetsDir: string;
  runtimeConfig: ConsoleRuntimeConfig | undefined;
  /** Origins besides the gateway's own the console may fetch from and frame (the Entra authority). */
  authorityOrigins: readonly string[];
  maxRequestBytes: number;
  uploadMaxBytes: number;
  /** The upload endpoint's body timeout (see ReplyAttachmentUploadOptions). */
  uploadBodyTimeoutMs: number;
  uploadMinBytesPerSecond: number;
  maxStreams: number;
}

/** The gateway's HTTP server, in the shape of the services' gRPC server so a host runs it the same way. */
export interface GatewayServer {
  /** Binds `host:port` (port 0 picks one) and returns the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Readiness (`GET /readyz`): 200 while serving, 503 once draining. */
  setServing(serving: boolean): void;
  /**
   * Graceful stop: readiness 503, open streams end with UNAVAILABLE (desktops reconnect), no new
   * connections; requests in flight (uploads) get `graceMs`, then every connection is cut.
   */
  shutdown(graceMs: number): Promise<void>;
  /** Open desktop streams (for tests and the bench). */
  openStreams(): number;
}

/**
 * The web gateway: the console's files under a strict Content-Security-Policy, the gRPC-web bridge
 * to the services (`POST /<package>.<Service>/<Method>`), the reply-attachment upload endpoint, and
 * the probes `GET /healthz` (the process answers) and `GET /readyz` (it takes traffic).
 */
export function createGatewayServer(deps: GatewayDeps): GatewayServer {
  const { logger } = deps;
  const bridge = createGrpcWebBridge({
    routes: deps.routes,
    logger,
    metrics: deps.metrics,
    maxRequestBytes: deps.maxRequestBytes,
    maxStreams: deps.maxStreams,
  });
  const upload = createReplyAttachmentUpload({
    routes: deps.routes,
    logger,
    metrics: deps.metrics,
    maxBytes: deps.uploadMaxBytes,
    maxConcurrent: Math.max(1, Math.ceil(deps.maxStreams / 10)),
    bodyTimeoutMs: deps.uploadBodyTimeoutMs,
    minBytesPerSecond: deps.uploadMinBytesPerSecond,
  });
  const assets = createConsoleAssets({ root: deps.assetsDir, runtimeConfig: deps.runtimeConfig });
  const policy = contentSecurityPolicy(deps.authorityOrigins);
  let serving = true;

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader('content-security-policy', policy);
    for (const [name, value] of Object.entries(securityHeaders)) response.setHeader(name, value);
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://gateway.invalid');
    } catch {
      response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('bad request\n');
      return;
    }
    const pathname = url.pathname;
    if (pathname === '/healthz' || pathname === '/readyz') {
      const ok = pathname === '/healthz' || serving;
      response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      response.end(ok ? 'ok\n' : 'draining\n');
      return;
    }
    if (bridge.accepts(request)) return bridge.handle(request, response, pathname);
    if (pathname === replyAttachmentUploadPath) return upload(request, response, url);
    return assets(request, response, pathname);
  }

  const server: Server = createServer(
    { requestTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 5_000 },
    (request, response) => {
      route(request, response).catch((error: unknown) => {
        logger.error({ err: error }, 'web-gateway: request failed');
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          response.end('internal error\n');
        } else response.destroy();
      });
    },
  );

  return {
    async listen(host, port) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return (server.address() as AddressInfo).port;
    },
    setServing(value) {
      serving = value;
    },
    async shutdown(graceMs) {
      serving = false;
      bridge.endAll('the gateway is shutting down; reconnect');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      deps.routes.close();
    },
    openStreams: () => bridge.openStreams(),
  };
}
