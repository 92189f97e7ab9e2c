import { addConfigProblem, env, parseAgentDirectories, parseApiKeys } from '@mailroute/platform';
import { z } from 'zod';

/** interaction-router's own variables (the common ones — GRPC_HOST, LOG_LEVEL, … — are merged in). */
export const configSchema = z
  .object({
    GRPC_PORT: env.port(50053),
    /** `mongodb` (replicas share it) or `embedded` (one SQLite file: the single-process default). */
    ROUTER_STORE: z.enum(['mongodb', 'embedded']).default('mongodb'),
    /** The embedded store's file (with ROUTER_STORE=embedded). */
    ROUTER_EMBEDDED_PATH: z.string().min(1).default('.cache/interaction-router/interaction-router.db'),
    /** MongoDB (or FerretDB / Cosmos DB vCore) URL and database; required with ROUTER_STORE=mongodb. */
    ROUTER_MONGODB_URL: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URL')
      .optional(),
    ROUTER_MONGODB_DATABASE: z.string().min(1).default('mailroute'),
    /**
     * Attachment content with ROUTER_STORE=embedded: the private directory mailbox-fetch
     * (MAILBOX_FETCH_BLOB_DIR) and outbound-send (OUTBOUND_SEND_BLOB_DIR) use too. With mongodb: the
     * GridFS bucket `attachments` of the database.
     */
    ROUTER_BLOB_DIR: z.string().min(1).default('.cache/blobs'),
    /** How long an UploadReplyAttachment upload is kept when no reply references it (default 24 hours). */
    ROUTER_UPLOAD_TTL_MS: env.int({ min: 1_000, max: 30 * 86_400_000, default: 86_400_000 }),
    /** How often expired uploads are deleted. */
    ROUTER_UPLOAD_SWEEP_INTERVAL_MS: env.int({ min: 100, max: 86_400_000, default: 300_000 }),
    /** Kafka brokers, comma separated; unset means the in-process bus (one process only). */
    ROUTER_KAFKA_BROKERS: env.brokers().optional(),
    /** The Kafka consumer group of the router's replicas (inbound email, send results); one per installation. */
    ROUTER_CONSUMER_GROUP: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,128}$/)
      .default('interaction-router'),
    /** Kafka partitions one replica consumes at once (each partition stays in order; intake of different mailboxes overlaps). */
    ROUTER_KAFKA_PARTITIONS_CONCURRENCY: env.int({ min: 1, max: 64, default: 4 }),
    /**
     * Failover: a replica that stops heartbeating this long (killed, its node lost) is dropped from the
     * consumer groups and its partitions move to the others; one that stops cleanly leaves at once.
     * Shorter moves a dead replica's work sooner; too short drops a live replica that stalls (a long
     * GC pause, a starved CPU) and costs a rebalance. Default 6 s, the shortest Kafka's brokers accept
     * by default (group.min.session.timeout.ms; they accept up to 5 min): failover in about 7 s.
     */
    ROUTER_KAFKA_SESSION_TIMEOUT_MS: env.int({ min: 6_000, max: 300_000, default: 6_000 }),
    /** How often a replica heartbeats to its consumer groups (also while a handler runs); under a third of the session timeout. Default a tenth of it. */
    ROUTER_KAFKA_HEARTBEAT_INTERVAL_MS: env.int({ min: 100, max: 100_000 }).optional(),
    /**
     * How long a planner lease lasts, ms: a dead replica's tenants are planned by another after at most
     * this (a stopped one releases them at once). Renewed past half its life, so each planned tenant
     * costs two store writes per half lease. Default 5 s, inside the Kafka session timeout.
     */
    ROUTER_PLANNER_LEASE_MS: env.int({ min: 2_000, max: 120_000, default: 5_000 }),
    /** Identifies this replica (its desktop-event consumer group); default a random id. */
    ROUTER_REPLICA_ID: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .optional(),
    /** Workload-manager API keys: `keyId:tenantId:routing.read+routing.write:sha256hex`, comma separated. */
    ROUTER_API_KEYS: env.parsed(parseApiKeys).optional(),
    /** Agent sign-in: allowed Entra directories, `mailrouteTenant:entraDirectoryId`, comma separated. */
    ROUTER_AGENT_DIRECTORIES: env.parsed(parseAgentDirectories).optional(),
    /** Agent sign-in: the desktop app's client id (the ID token's audience). */
    ROUTER_AGENT_AUDIENCE: z.string().default(''),
    /**
     * Agent sign-in: the authority host, default https://login.microsoftonline.com. Development may
     * point it at the graph sandbox (https://127.0.0.1:<port>); its CA must be trusted (NODE_EXTRA_CA_CERTS).
     */
    ROUTER_AGENT_AUTHORITY: z.url().default('https://login.microsoftonline.com'),
    /**
     * The desktop app's role whose holders (signed in with Microsoft, the same token as agents) may use the
     * workload-manager API of their own tenant, as API keys with routing.read + routing.write do.
     */
    ROUTER_SUPERVISOR_ROLE: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,120}$/)
      .default('Supervisor'),
    /** Plan every known tenant at least this often, ms. */
    ROUTER_POLL_INTERVAL_MS: env.int({ min: 50, max: 60_000, default: 1_000 }),
    /** How often lapsed offers are returned to their queues, ms. */
    ROUTER_SWEEP_INTERVAL_MS: env.int({ min: 50, max: 60_000, default: 500 }),
    /**
     * How often each replica runs the alert sweep, ms: relays alert claims left unpublished, raises SLA
     * due-soon/breached alerts (a read of the owing interactions per tenant) and queue threshold alerts
     * (the waiting index of tenants with thresholds), prunes old claims.
     */
    ROUTER_ALERT_SWEEP_INTERVAL_MS: env.int({ min: 1_000, max: 3_600_000, default: 15_000 }),
    /** Published alert claims are deleted this long after publication once their subject is done, ms (default 7 days). */
    ROUTER_ALERT_RETENTION_MS: env.int({ min: 60_000, max: 365 * 86_400_000, default: 7 * 86_400_000 }),
    /** An agent whose stream was not seen this long gets no new offers, ms. */
    ROUTER_SESSION_TTL_MS: env.int({ min: 1_000, max: 600_000, default: 20_000 }),
    /** Prometheus scrape port (GET /metrics); 0 = any free port. */
    ROUTER_METRICS_PORT: env.port(9466),
    ROUTER_METRICS_HOST: z.string().default('127.0.0.1'),
    /** How often one replica recomputes the live queue gauges (waiting, oldest wait, offered, agents) from the indexes, ms. */
    ROUTER_METRICS_SNAPSHOT_MS: env.int({ min: 1_000, max: 600_000, default: 15_000 }),
    /** How often it recomputes the service-level gauges (GetQueueStatistics: two interaction scans per tenant), ms. */
    ROUTER_METRICS_STATISTICS_MS: env.int({ min: 1_000, max: 86_400_000, default: 300_000 }),
  })
  .superRefine((config, context) => {
    if (config.ROUTER_STORE === 'mongodb' && !config.ROUTER_MONGODB_URL)
      addConfigProblem(context, 'ROUTER_MONGODB_URL', 'is required when ROUTER_STORE=mongodb');
    if (
      config.ROUTER_KAFKA_HEARTBEAT_INTERVAL_MS !== undefined &&
      config.ROUTER_KAFKA_HEARTBEAT_INTERVAL_MS * 3 > config.ROUTER_KAFKA_SESSION_TIMEOUT_MS
    )
      addConfigProblem(
        context,
        'ROUTER_KAFKA_HEARTBEAT_INTERVAL_MS',
        'must be at most a third of ROUTER_KAFKA_SESSION_TIMEOUT_MS (a lost heartbeat or two must not drop the replica)',
      );
  });
