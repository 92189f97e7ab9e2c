import type { Logger } from '@mailroute/platform';
import type { Meter } from '@opentelemetry/api';
import { createConsoleAssets, type ConsoleRuntimeConfig } from './assets/console-assets';
import { createGrpcWebBridge } from './grpc-web/grpc-web-bridge';
import type { UpstreamRoutes } from './grpc-web/upstream-routes';
import { contentSecurityPolicy } from './http/content-security-policy';
import { createWebGatewayMetrics } from './metrics/web-gateway.metrics';
import { createGatewayServer, type GatewayServer } from './server';
import { createAttachmentUpload } from './uploads/attachment-upload';

/** What the web gateway runs on; the caller creates these (the routes close with the server). */
export interface WebGatewayAdapters {
  logger: Logger;
  /** Which service is served where: one gRPC channel per upstream address. */
  routes: UpstreamRoutes;
  /** Where the gateway's instruments are registered. */
  meter: Meter;
}

/** The web gateway's own settings (already parsed and validated). */
export interface WebGatewaySettings {
  /** The built console (index.html, assets/). */
  assetsDir: string;
  /** The console's `config.json` (authority, client id, title); none = the console says it is not configured. */
  runtimeConfig: ConsoleRuntimeConfig | undefined;
  /** Origins besides the gateway's own the console may fetch from and frame (the Entra authority). */
  authorityOrigins: readonly string[];
  /** Largest gRPC-web request body (one framed message). */
  maxRequestBytes: number;
  /** Largest reply attachment the upload endpoint accepts. */
  uploadMaxBytes: number;
  /** The upload endpoint's body timeout (see AttachmentUploadOptions). */
  uploadBodyTimeoutMs: number;
  uploadMinBytesPerSecond: number;
  /** Open desktop streams at once; uploads at once are a tenth of it (at least one). */
  maxStreams: number;
}

/**
 * The composition root of the web gateway: everything above the adapters (the gRPC-web bridge, the
 * attachment upload endpoints, the console's files, the Content-Security-Policy, the metrics'
 * instruments, the HTTP server). `main.ts` reaches it through `wireWebGateway` (config → adapters).
 */
export function composeWebGateway(adapters: WebGatewayAdapters, settings: WebGatewaySettings): GatewayServer {
  const { logger, routes } = adapters;
  const metrics = createWebGatewayMetrics(adapters.meter);
  return createGatewayServer({
    logger,
    routes,
    bridge: createGrpcWebBridge({
      routes,
      logger,
      metrics,
      maxRequestBytes: settings.maxRequestBytes,
      maxStreams: settings.maxStreams,
    }),
    upload: createAttachmentUpload({
      routes,
      logger,
      metrics,
      maxBytes: settings.uploadMaxBytes,
      maxConcurrent: Math.max(1, Math.ceil(settings.maxStreams / 10)),
      bodyTimeoutMs: settings.uploadBodyTimeoutMs,
      minBytesPerSecond: settings.uploadMinBytesPerSecond,
    }),
    assets: createConsoleAssets({ root: settings.assetsDir, runtimeConfig: settings.runtimeConfig }),
    contentSecurityPolicy: contentSecurityPolicy(settings.authorityOrigins),
  });
}
