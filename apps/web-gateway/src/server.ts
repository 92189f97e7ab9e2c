import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@mailroute/platform';
import type { createConsoleAssets } from './assets/console-assets';
import type { GrpcWebBridge } from './grpc-web/grpc-web-bridge';
import type { UpstreamRoutes } from './grpc-web/upstream-routes';
import { securityHeaders } from './http/content-security-policy';
import { mailFramePagePath, serveMailFramePage } from './http/mail-frame-page';
import { isUploadPath, type createAttachmentUpload } from './uploads/attachment-upload';

export interface GatewayDeps {
  logger: Logger;
  /** Closed once the server has drained. */
  routes: UpstreamRoutes;
  /** gRPC-web requests (`POST /<package>.<Service>/<Method>`). */
  bridge: GrpcWebBridge;
  /** `POST /uploads/reply-attachments` and `POST /uploads/template-attachments`. */
  upload: ReturnType<typeof createAttachmentUpload>;
  /** Every other path: the console's files. */
  assets: ReturnType<typeof createConsoleAssets>;
  /** The Content-Security-Policy header of every answer. */
  contentSecurityPolicy: string;
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
 * The web gateway's HTTP server: routes each request to the gRPC-web bridge, the attachment
 * upload endpoints or the console's files (all built in `compose.ts`), every answer under the strict
 * Content-Security-Policy, and answers the probes `GET /healthz` (the process answers) and
 * `GET /readyz` (it takes traffic).
 */
export function createGatewayServer(deps: GatewayDeps): GatewayServer {
  const { logger, bridge, upload, assets } = deps;
  const policy = deps.contentSecurityPolicy;
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
    if (isUploadPath(pathname)) return upload(request, response, url);
    if (pathname === mailFramePagePath) return serveMailFramePage(request, response);
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
