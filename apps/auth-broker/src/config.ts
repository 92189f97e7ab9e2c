import {
  addConfigProblem,
  env,
  parseAgentDirectories,
  parseApiKeys,
  parseEncryptionKeys,
  parseServiceTokens,
  serviceConfigSchema,
} from '@mailroute/platform';
import { parseCloudOrigins } from './credentials/clouds';
import { z } from 'zod';

/**
 * auth-broker's variables (the common ones — GRPC_HOST, LOG_LEVEL, … — included, since a rule below
 * reads GRPC_HOST) and the rules across them. Every one is listed with its meaning in .env.example
 * and the README's auth-broker section.
 */
export const configSchema = serviceConfigSchema
  .extend({
    GRPC_PORT: env.port(50051),
    /** embedded (node:sqlite file, single process) or mongodb (shared by every replica). */
    AUTH_BROKER_STORE: z.enum(['embedded', 'mongodb']).default('embedded'),
    AUTH_BROKER_EMBEDDED_PATH: z.string().default('.cache/auth-broker/auth-broker.db'),
    AUTH_BROKER_MONGODB_URL: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URL')
      .optional(),
    AUTH_BROKER_MONGODB_DATABASE: z.string().default('mailroute'),
    /** Key ring: `id:base64(32 bytes)[,…]`. Required with mongodb; embedded generates a local dev key when unset. */
    AUTH_BROKER_ENCRYPTION_KEYS: env.parsed(parseEncryptionKeys).optional(),
    /** Key id new secrets are sealed with. Default: the first key of the ring. */
    AUTH_BROKER_ENCRYPTION_ACTIVE_KEY: z.string().optional(),
    /** Workload-manager API keys: `keyId:tenantId:scope+scope:sha256hex[,…]`. */
    AUTH_BROKER_API_KEYS: env.parsed(parseApiKeys).optional(),
    /** Supervisor sign-in: allowed Entra directories, `mailrouteTenant:entraDirectoryId`, comma separated (as ROUTER_AGENT_DIRECTORIES). */
    AUTH_BROKER_SUPERVISOR_DIRECTORIES: env.parsed(parseAgentDirectories).optional(),
    /** Supervisor sign-in: the desktop app's client id (the token's audience; as ROUTER_AGENT_AUDIENCE). Empty: no token is accepted. */
    AUTH_BROKER_SUPERVISOR_AUDIENCE: z.string().default(''),
    /** Supervisor sign-in: the authority host (as ROUTER_AGENT_AUTHORITY; the graph sandbox's in development). */
    AUTH_BROKER_SUPERVISOR_AUTHORITY: z.url().default('https://login.microsoftonline.com'),
    /**
     * The desktop app's role whose holders (signed in with Microsoft, as in the web console) may use AuthBrokerService
     * of their own tenant, as an API key with both scopes does (as ROUTER_SUPERVISOR_ROLE).
     */
    AUTH_BROKER_SUPERVISOR_ROLE: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,120}$/)
      .default('Supervisor'),
    /** mailroute service tokens allowed to call GetAccessToken: `service:sha256hex[,…]`. */
    AUTH_BROKER_SERVICE_TOKENS: env.parsed(parseServiceTokens).optional(),
    /**
     * Origins `https://host[:port][,…]` that tenant credentials of cloud CUSTOM may use as authority
     * host or Graph endpoint, besides the national clouds' hosts (the only ones allowed by default):
     * the graph sandbox, a proxy in front of Entra ID and Graph.
     */
    AUTH_BROKER_ALLOWED_CLOUD_ORIGINS: env.parsed(parseCloudOrigins).optional(),
    /** Development only: credential-less calls from loopback count as a mailroute service. */
    AUTH_BROKER_TRUST_LOOPBACK_SERVICES: env.bool(false),
    /** Prometheus scrape port (GET /metrics); 0 = any free port. Unset: 9464. */
    AUTH_BROKER_METRICS_PORT: env.port(9464),
    AUTH_BROKER_METRICS_HOST: z.string().default('127.0.0.1'),
    /** Tokens are refreshed in the background this long before they expire. */
    AUTH_BROKER_REFRESH_AHEAD_SECONDS: env.int({ min: 60, max: 3_000, default: 600 }),
    /** How long one replica may hold a token acquisition lease. */
    AUTH_BROKER_ACQUISITION_LEASE_MS: env.int({ min: 1_000, max: 120_000, default: 30_000 }),
    /**
     * Kafka brokers (`host:port[,…]`, with the common KAFKA_TLS_* and KAFKA_SASL_* settings) the credential-expiry
     * alerts are published to (mailroute.alert.v1). Unset: no alert events (the metrics still show expiry).
     */
    AUTH_BROKER_KAFKA_BROKERS: env.brokers().optional(),
    /** How often expiry gauges are recomputed from the store and the credential-expiry alerts swept. */
    AUTH_BROKER_HEALTH_SCAN_SECONDS: env.int({ min: 5, max: 86_400, default: 300 }),
  })
  .superRefine((config, context) => {
    if (config.AUTH_BROKER_STORE === 'mongodb') {
      if (!config.AUTH_BROKER_MONGODB_URL)
        addConfigProblem(context, 'AUTH_BROKER_MONGODB_URL', 'is required when AUTH_BROKER_STORE=mongodb');
      if (!config.AUTH_BROKER_ENCRYPTION_KEYS?.length) {
        addConfigProblem(
          context,
          'AUTH_BROKER_ENCRYPTION_KEYS',
          'is required when AUTH_BROKER_STORE=mongodb (replicas must share the key ring)',
        );
      }
    }
    const active = config.AUTH_BROKER_ENCRYPTION_ACTIVE_KEY;
    if (active && !config.AUTH_BROKER_ENCRYPTION_KEYS?.some((key) => key.id === active)) {
      addConfigProblem(context, 'AUTH_BROKER_ENCRYPTION_ACTIVE_KEY', 'must be the id of a key in AUTH_BROKER_ENCRYPTION_KEYS');
    }
    if (config.AUTH_BROKER_TRUST_LOOPBACK_SERVICES && !['127.0.0.1', '::1', 'localhost'].includes(config.GRPC_HOST)) {
      addConfigProblem(
        context,
        'AUTH_BROKER_TRUST_LOOPBACK_SERVICES',
        'may only be true when GRPC_HOST is a loopback address (development mode)',
      );
    }
  });

export type AuthBrokerConfig = z.infer<typeof configSchema>;
