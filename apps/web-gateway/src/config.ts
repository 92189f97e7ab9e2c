import { addConfigProblem, checkGrpcClientTlsRules, env, grpcClientTlsSchema, serviceConfigSchema } from '@mailroute/platform';
import { z } from 'zod';

const grpcAddress = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port');

/**
 * The web gateway's variables, with the common ones it shares with the services (LOG_LEVEL,
 * OTEL_EXPORTER_OTLP_ENDPOINT, SHUTDOWN_GRACE_MS; of the GRPC_* ones only the client TLS settings:
 * it serves HTTP and calls the services, over mTLS when GRPC_TLS_CA_FILE is set). Every one is
 * listed with its meaning in .env.example and deploy/README.md.
 */
export const configSchema = z
  .object({
    ...serviceConfigSchema.pick({ LOG_LEVEL: true, OTEL_EXPORTER_OTLP_ENDPOINT: true, SHUTDOWN_GRACE_MS: true }).shape,
    ...grpcClientTlsSchema.shape,
    /** Interface the HTTP server binds. */
    WEB_GATEWAY_HOST: z.string().default('127.0.0.1'),
    /** HTTP port of the console and the gRPC-web bridge; 0 picks a free one. */
    WEB_GATEWAY_PORT: env.port(8080),
    /** interaction-router (AgentDesktopService, InteractionRouterService), `host:port`. */
    WEB_GATEWAY_ROUTER_ADDRESS: grpcAddress.default('127.0.0.1:50053'),
    /** mailbox-fetch (MailboxFetchService: mailboxes, sync status, diagnosis), `host:port`. */
    WEB_GATEWAY_MAILBOX_FETCH_ADDRESS: grpcAddress.default('127.0.0.1:50052'),
    /** auth-broker (AuthBrokerService: tenant credentials state; AccessTokenService is never bridged), `host:port`. */
    WEB_GATEWAY_AUTH_BROKER_ADDRESS: grpcAddress.default('127.0.0.1:50051'),
    /** The built console (index.html and its assets); a placeholder page is served while it is missing. */
    WEB_GATEWAY_ASSETS_DIR: z.string().default('dist/apps/web-console'),
    /** The Entra authority the console signs in with, e.g. https://login.microsoftonline.com/<tenant id>. Unset: the console has no sign-in configuration (config.json answers 404). */
    WEB_GATEWAY_AUTHORITY: z
      .url()
      .refine((value) => value.startsWith('https://'), 'must be an https URL')
      .optional(),
    /** Client id of the console's app registration (SPA platform); the router's ROUTER_AGENT_AUDIENCE. */
    WEB_GATEWAY_CLIENT_ID: z.string().min(1).max(100).optional(),
    /** Name shown in the console's header. */
    WEB_GATEWAY_TITLE: z.string().min(1).max(100).default('mailroute'),
    /** Largest gRPC-web request body (one message plus its 5-byte frame). */
    WEB_GATEWAY_MAX_REQUEST_BYTES: env.int({ min: 1_024, max: 16 * 1_048_576, default: 4 * 1_048_576 }),
    /** Largest reply attachment accepted by the upload endpoint (Outlook's message limit is 150 MB). */
    WEB_GATEWAY_UPLOAD_MAX_BYTES: env.int({ min: 1, max: 157_286_400, default: 157_286_400 }),
    /** Body timeout of the upload endpoint: an upload bringing under WEB_GATEWAY_UPLOAD_MIN_BYTES_PER_SECOND in a window this long is cut (HTTP 408). */
    WEB_GATEWAY_UPLOAD_BODY_TIMEOUT_MS: env.int({ min: 100, max: 3_600_000, default: 30_000 }),
    /** Slowest upload body the gateway waits for, averaged over WEB_GATEWAY_UPLOAD_BODY_TIMEOUT_MS. */
    WEB_GATEWAY_UPLOAD_MIN_BYTES_PER_SECOND: env.int({ min: 0, max: 1_048_576_000, default: 1_024 }),
    /** Open desktop streams and uploads at once; past it new ones get RESOURCE_EXHAUSTED (HTTP 503 for uploads). */
    WEB_GATEWAY_MAX_STREAMS: env.int({ min: 1, max: 1_000_000, default: 10_000 }),
    /** Prometheus scrape port (GET /metrics); 0 = any free port. */
    WEB_GATEWAY_METRICS_PORT: env.port(9468),
    WEB_GATEWAY_METRICS_HOST: z.string().default('127.0.0.1'),
  })
  .superRefine((config, context) => {
    checkGrpcClientTlsRules(config, context);
    if (config.WEB_GATEWAY_AUTHORITY && !config.WEB_GATEWAY_CLIENT_ID) {
      addConfigProblem(context, 'WEB_GATEWAY_CLIENT_ID', 'is required when WEB_GATEWAY_AUTHORITY is set');
    }
  });

export type WebGatewayOwnConfig = z.infer<typeof configSchema>;
