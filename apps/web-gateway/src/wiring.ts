import path from 'node:path';
import {
  AgentDesktopServiceDefinition,
  AuthBrokerServiceDefinition,
  InteractionRouterServiceDefinition,
  MailboxFetchServiceDefinition,
} from '@mailroute/contracts';
import { grpcClientCredentials, startMetrics, type Logger, type ServiceParts } from '@mailroute/platform';
import type { ConsoleRuntimeConfig } from './assets/console-assets';
import type { WebGatewayOwnConfig } from './config';
import { createUpstreamRoutes } from './grpc-web/upstream-routes';
import { composeWebGateway } from './compose';
import type { GatewayServer } from './server';

export type WebGatewayConfig = WebGatewayOwnConfig;

/** Entra's own authority hosts; any other (the graph sandbox, a proxy) must be named to msal-browser as known. */
const microsoftAuthorityHosts = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);

/** What the gateway's wiring returns: ServiceParts whose server is the gateway's HTTP server. */
export interface WebGatewayParts extends ServiceParts {
  server: GatewayServer;
}

/**
 * The process's adapters from its configuration (metrics endpoint, the routing table: which service is
 * served where — AccessTokenService and OutboundSendService are not reachable from browsers), then the
 * composition root over them (`compose.ts`); shutdown closes the metrics endpoint after the server.
 */
export async function wireWebGateway(config: WebGatewayConfig, logger: Logger): Promise<WebGatewayParts> {
  const metrics = await startMetrics({
    serviceName: 'web-gateway',
    port: config.WEB_GATEWAY_METRICS_PORT,
    host: config.WEB_GATEWAY_METRICS_HOST,
  });
  const routes = createUpstreamRoutes(
    [
      {
        address: config.WEB_GATEWAY_ROUTER_ADDRESS,
        services: [AgentDesktopServiceDefinition, InteractionRouterServiceDefinition],
      },
      { address: config.WEB_GATEWAY_MAILBOX_FETCH_ADDRESS, services: [MailboxFetchServiceDefinition] },
      { address: config.WEB_GATEWAY_AUTH_BROKER_ADDRESS, services: [AuthBrokerServiceDefinition] },
    ],
    grpcClientCredentials(config),
  );
  const authority = config.WEB_GATEWAY_AUTHORITY ? new URL(config.WEB_GATEWAY_AUTHORITY) : undefined;
  const runtimeConfig: ConsoleRuntimeConfig | undefined =
    authority && config.WEB_GATEWAY_CLIENT_ID
      ? {
          authority: authority.href.replace(/\/+$/, ''),
          clientId: config.WEB_GATEWAY_CLIENT_ID,
          knownAuthorities: microsoftAuthorityHosts.has(authority.hostname) ? [] : [authority.host],
          title: config.WEB_GATEWAY_TITLE,
        }
      : undefined;
  const server = composeWebGateway(
    { logger, routes, meter: metrics.meter },
    {
      assetsDir: path.resolve(config.WEB_GATEWAY_ASSETS_DIR),
      runtimeConfig,
      authorityOrigins: authority ? [authority.origin] : [],
      maxRequestBytes: config.WEB_GATEWAY_MAX_REQUEST_BYTES,
      uploadMaxBytes: config.WEB_GATEWAY_UPLOAD_MAX_BYTES,
      uploadBodyTimeoutMs: config.WEB_GATEWAY_UPLOAD_BODY_TIMEOUT_MS,
      uploadMinBytesPerSecond: config.WEB_GATEWAY_UPLOAD_MIN_BYTES_PER_SECOND,
      maxStreams: config.WEB_GATEWAY_MAX_STREAMS,
    },
  );
  return {
    server,
    closeAfterServer: [{ name: 'metrics', run: () => metrics.shutdown() }],
  };
}
