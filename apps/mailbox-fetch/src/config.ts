import { addConfigProblem, env, parseAgentDirectories, parseApiKeys, parseEncryptionKeys } from '@mailroute/platform';
import { z } from 'zod';

const apiKeys = env.parsed(parseApiKeys);

/**
 * mailbox-fetch's own variables (the common ones — GRPC_HOST, LOG_LEVEL, … — are merged in). Every
 * one is listed with its meaning in .env.example and the README's mailbox-fetch section.
 */
export const configSchema = z
  .object({
    GRPC_PORT: env.port(50052),
    /** embedded (node:sqlite file, single process) or mongodb (shared by every replica). */
    MAILBOX_FETCH_STORE: z.enum(['embedded', 'mongodb']).default('embedded'),
    MAILBOX_FETCH_EMBEDDED_PATH: z.string().default('.cache/mailbox-fetch/mailbox-fetch.db'),
    MAILBOX_FETCH_MONGODB_URL: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URL')
      .optional(),
    MAILBOX_FETCH_MONGODB_DATABASE: z.string().default('mailroute'),
    /**
     * Attachment content with MAILBOX_FETCH_STORE=embedded: private files in this directory, shared with
     * the router (ROUTER_BLOB_DIR) and outbound-send (OUTBOUND_SEND_BLOB_DIR). With mongodb it is the
     * GridFS bucket `attachments` of the database.
     */
    MAILBOX_FETCH_BLOB_DIR: z.string().min(1).default('.cache/blobs'),
    /** Kafka brokers `host:port[,…]`; unset = the in-process bus (embedded default only). */
    MAILBOX_FETCH_KAFKA_BROKERS: env.brokers().optional(),
    /** auth-broker's gRPC address `host:port`. */
    MAILBOX_FETCH_AUTH_BROKER_ADDRESS: z.string().default('127.0.0.1:50051'),
    /** This service's token for auth-broker's AccessTokenService (sent as a bearer token). Unset: loopback trust in development. */
    MAILBOX_FETCH_AUTH_BROKER_TOKEN: z.string().optional(),
    /** Workload-manager API keys: `keyId:tenantId:scope+scope:sha256hex[,…]` (scopes mailboxes.read, mailboxes.write). */
    MAILBOX_FETCH_API_KEYS: apiKeys.optional(),
    /** Supervisor sign-in: allowed Entra directories, `mailrouteTenant:entraDirectoryId`, comma separated (as ROUTER_AGENT_DIRECTORIES). */
    MAILBOX_FETCH_SUPERVISOR_DIRECTORIES: env.parsed(parseAgentDirectories).optional(),
    /** Supervisor sign-in: the desktop app's client id (the token's audience; as ROUTER_AGENT_AUDIENCE). Empty: no token is accepted. */
    MAILBOX_FETCH_SUPERVISOR_AUDIENCE: z.string().default(''),
    /** Supervisor sign-in: the authority host (as ROUTER_AGENT_AUTHORITY; the graph sandbox's in development). */
    MAILBOX_FETCH_SUPERVISOR_AUTHORITY: z.url().default('https://login.microsoftonline.com'),
    /**
     * The desktop app's role whose holders (signed in with Microsoft, as in the web console) may use MailboxFetchService
     * of their own tenant, as an API key with both scopes does (as ROUTER_SUPERVISOR_ROLE).
     */
    MAILBOX_FETCH_SUPERVISOR_ROLE: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,120}$/)
      .default('Supervisor'),
    /** Concurrent Graph requests per mailbox (Outlook allows 4 per app and mailbox; outbound-send uses 1). */
    MAILBOX_FETCH_GRAPH_CONCURRENCY_PER_MAILBOX: env.int({ min: 1, max: 4, default: 3 }),
    /** Concurrent Graph requests of the replica over all mailboxes. */
    MAILBOX_FETCH_GRAPH_CONCURRENCY_GLOBAL: env.int({ min: 1, max: 10_000, default: 64 }),
    /** Sync turns running at once (the global scheduling bound). */
    MAILBOX_FETCH_MAX_CONCURRENT_SYNCS: env.int({ min: 1, max: 10_000, default: 32 }),
    /** Messages per delta page (Prefer: odata.maxpagesize). */
    MAILBOX_FETCH_DELTA_PAGE_SIZE: env.int({ min: 1, max: 1000, default: 50 }),
    /** Mailbox lease lifetime: a dead replica's mailboxes are taken over within it. */
    MAILBOX_FETCH_LEASE_TTL_MS: env.int({ min: 2_000, max: 600_000, default: 30_000 }),
    /**
     * How long a replica counts as alive after its last heartbeat (one every fifth of it): a crashed
     * replica's mailboxes are taken over within it. Default 5000; a value above the lease TTL acts as the lease TTL.
     */
    MAILBOX_FETCH_LIVENESS_TTL_MS: env.int({ min: 500, max: 600_000 }).optional(),
    /** How often configuration, SyncNow requests and free mailboxes are scanned. */
    MAILBOX_FETCH_SCAN_INTERVAL_MS: env.int({ min: 100, max: 600_000, default: 5_000 }),
    /** Most mailboxes one replica owns. */
    MAILBOX_FETCH_MAX_MAILBOXES: env.int({ min: 1, max: 1_000_000, default: 5_000 }),
    /** Longest wait before retrying a failing mailbox (the backoff doubles from 1 s up to this). */
    MAILBOX_FETCH_ERROR_BACKOFF_MAX_MS: env.int({ min: 1_000, max: 3_600_000, default: 300_000 }),
    /** Development/tests: poll every mailbox at least this often, below the 10 s minimum of the API. */
    MAILBOX_FETCH_POLL_INTERVAL_CAP_MS: env.int({ min: 100, max: 3_600_000, default: 3_600_000 }),
    /** Prometheus scrape port (GET /metrics). */
    MAILBOX_FETCH_METRICS_PORT: env.port(9465),
    MAILBOX_FETCH_METRICS_HOST: z.string().default('127.0.0.1'),
    /** Replica id in leases and status; default `<hostname>-<pid>`. */
    MAILBOX_FETCH_REPLICA_ID: z.string().optional(),
    /**
     * Public HTTPS base URL Microsoft Graph posts change notifications to (`<url>/notifications`,
     * `<url>/lifecycle`): the ingress in front of the notification endpoint. Unset: every mailbox polls.
     */
    MAILBOX_FETCH_PUSH_PUBLIC_URL: z
      .url()
      .regex(/^https:\/\//, 'must be an https:// URL (Graph posts only to HTTPS)')
      .optional(),
    /** Key ring sealing each subscription's clientState: `id:base64key[,…]` (32-byte keys). Required with a public URL. */
    MAILBOX_FETCH_PUSH_CLIENT_STATE_KEYS: env.parsed(parseEncryptionKeys).optional(),
    /** Notification endpoint (HTTPS) listen address and port. */
    MAILBOX_FETCH_PUSH_HOST: z.string().default('127.0.0.1'),
    MAILBOX_FETCH_PUSH_PORT: env.port(8443),
    /** PEM certificate chain and key of the notification endpoint. Required with a public URL. */
    MAILBOX_FETCH_PUSH_TLS_CERT_FILE: z.string().optional(),
    MAILBOX_FETCH_PUSH_TLS_KEY_FILE: z.string().optional(),
    /** Poll interval of a mailbox with a live subscription (the safety net). Default 15 min. */
    MAILBOX_FETCH_SAFETY_NET_POLL_MS: env.int({ min: 10_000, max: 86_400_000, default: 900_000 }),
    /**
     * A mailbox whose last successful sync is older than this (or that fails on access, credentials or its
     * address) raises the mailbox-stopped-syncing alert on mailroute.alert.v1, ms. Default 15 min.
     */
    MAILBOX_FETCH_SYNC_STOPPED_ALERT_AFTER_MS: env.int({ min: 60_000, max: 7 * 86_400_000, default: 900_000 }),
    /** How often each replica sweeps every mailbox's sync status for that alert, ms. Default 1 min. */
    MAILBOX_FETCH_ALERT_SWEEP_INTERVAL_MS: env.int({ min: 1_000, max: 3_600_000, default: 60_000 }),
  })
  .superRefine((config, context) => {
    if (config.MAILBOX_FETCH_STORE === 'mongodb' && !config.MAILBOX_FETCH_MONGODB_URL) {
      addConfigProblem(context, 'MAILBOX_FETCH_MONGODB_URL', 'is required when MAILBOX_FETCH_STORE=mongodb');
    }
    if (config.MAILBOX_FETCH_PUSH_PUBLIC_URL) {
      for (const name of [
        'MAILBOX_FETCH_PUSH_CLIENT_STATE_KEYS',
        'MAILBOX_FETCH_PUSH_TLS_CERT_FILE',
        'MAILBOX_FETCH_PUSH_TLS_KEY_FILE',
      ] as const) {
        if (!config[name]) addConfigProblem(context, name, 'is required when MAILBOX_FETCH_PUSH_PUBLIC_URL is set');
      }
    }
  });
