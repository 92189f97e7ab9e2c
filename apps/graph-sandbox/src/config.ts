import { env } from '@mailroute/platform';
import { z } from 'zod';

/**
 * graph-sandbox's variables. Parsed once by `loadConfig(configSchema, process.env)` in main.ts; nothing else
 * reads the environment.
 */
export const configSchema = z.object({
  /** Interface the HTTPS listener binds (loopback by default). */
  GRAPH_SANDBOX_HOST: z.string().default('127.0.0.1'),
  /** HTTPS port for Entra ID and Graph (0 = any free port). */
  GRAPH_SANDBOX_PORT: env.port(8443),
  /** Plain-HTTP admin API port, always on 127.0.0.1 (0 = any free port). */
  GRAPH_SANDBOX_ADMIN_PORT: env.port(8444),
  /** Where ca.pem / ca-key.pem / server.pem / server-key.pem are loaded from or written to. */
  GRAPH_SANDBOX_CERT_DIR: z.string().default('.cache/graph-sandbox'),
  /** demo: seed the demo tenant; empty: no tenants. */
  GRAPH_SANDBOX_PROFILE: z.enum(['demo', 'empty']).default('demo'),
  /** Access-token lifetime (expires_in). Under 300 s MSAL never serves the token from its cache. */
  GRAPH_SANDBOX_TOKEN_LIFETIME_SECONDS: env.int({ min: 1, max: 86_400, default: 3599 }),
  /** Refresh-token inactivity lifetime. */
  GRAPH_SANDBOX_REFRESH_TOKEN_LIFETIME_SECONDS: env.int({ min: 1, default: 90 * 86_400 }),
  /** Refresh tokens issued to single-page apps live this long from the sign-in (Entra: 24 hours). */
  GRAPH_SANDBOX_SPA_REFRESH_TOKEN_LIFETIME_SECONDS: env.int({ min: 1, default: 86_400 }),
  /** The demo desktop app's SPA redirect URIs (the web console's URL), comma separated. */
  GRAPH_SANDBOX_CONSOLE_REDIRECT_URIS: z
    .string()
    .default('http://127.0.0.1:8080/')
    .transform((text) =>
      text
        .split(',')
        .map((uri) => uri.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url()).min(1)),
  /** Polling interval the device-code response asks for. */
  GRAPH_SANDBOX_DEVICE_CODE_INTERVAL_SECONDS: env.int({ min: 0, max: 60, default: 5 }),
  /** Delta tokens older than this answer SyncStateNotFound (0 = never by age). */
  GRAPH_SANDBOX_DELTA_TOKEN_MAX_AGE_SECONDS: env.int({ min: 0, default: 0 }),
  /** Per app-and-mailbox limits (Outlook: 4 concurrent, 10,000 per 10 minutes). */
  GRAPH_SANDBOX_MAX_CONCURRENT_REQUESTS: env.int({ min: 1, default: 4 }),
  GRAPH_SANDBOX_REQUESTS_PER_WINDOW: env.int({ min: 1, default: 10_000 }),
  GRAPH_SANDBOX_WINDOW_SECONDS: env.int({ min: 1, default: 600 }),
  LOG_LEVEL: env.logLevel(),
});
