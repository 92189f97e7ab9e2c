import { addConfigProblem, env, parseApiKeys } from '@mailroute/platform';
import { z } from 'zod';

/**
 * outbound-send's own variables (the common ones — GRPC_HOST, LOG_LEVEL, … — are merged in). Every
 * one is listed with its meaning in .env.example, deploy/README.md and the README's outbound-send section.
 */
export const configSchema = z
  .object({
    GRPC_PORT: env.port(50054),
    /** embedded (node:sqlite file, single process) or mongodb (shared by every replica). */
    OUTBOUND_SEND_STORE: z.enum(['embedded', 'mongodb']).default('embedded'),
    OUTBOUND_SEND_EMBEDDED_PATH: z.string().default('.cache/outbound-send/outbound-send.db'),
    OUTBOUND_SEND_MONGODB_URL: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URL')
      .optional(),
    /** Database of outbound-send's tables; mailbox configurations are read from mailbox-fetch's table in the same database. */
    OUTBOUND_SEND_MONGODB_DATABASE: z.string().default('mailroute'),
    /**
     * Attachment content with OUTBOUND_SEND_STORE=embedded: the private directory mailbox-fetch
     * (MAILBOX_FETCH_BLOB_DIR) and the router (ROUTER_BLOB_DIR) use too. With mongodb: the GridFS bucket
     * `attachments` of the database.
     */
    OUTBOUND_SEND_BLOB_DIR: z.string().min(1).default('.cache/blobs'),
    /** How long an UploadAttachment upload is kept when no send references it (default 24 hours). */
    OUTBOUND_SEND_UPLOAD_TTL_MS: env.int({ min: 1_000, max: 30 * 86_400_000, default: 86_400_000 }),
    /** How often expired uploads are deleted. */
    OUTBOUND_SEND_UPLOAD_SWEEP_INTERVAL_MS: env.int({ min: 100, max: 86_400_000, default: 300_000 }),
    /** Embedded store only: mailbox-fetch's embedded database file, where mailbox configurations are read. */
    OUTBOUND_SEND_MAILBOX_FETCH_EMBEDDED_PATH: z.string().default('.cache/mailbox-fetch/mailbox-fetch.db'),
    /** Kafka brokers `host:port[,…]`; unset = the in-process bus (embedded default only). */
    OUTBOUND_SEND_KAFKA_BROKERS: env.brokers().optional(),
    /** Kafka consumer group of the outbound-request consumers. */
    OUTBOUND_SEND_CONSUMER_GROUP: z.string().default('outbound-send'),
    /** Where a consumer group without committed offsets starts: true = the topic's beginning (nothing lost), false = new requests only. */
    OUTBOUND_SEND_CONSUMER_FROM_BEGINNING: env.bool(true),
    /** A consumer silent this long is presumed dead and its partitions move (a restarted replica waits for it too). */
    OUTBOUND_SEND_KAFKA_SESSION_TIMEOUT_MS: env.int({ min: 6_000, max: 300_000, default: 10_000 }),
    /** auth-broker's gRPC address `host:port`. */
    OUTBOUND_SEND_AUTH_BROKER_ADDRESS: z.string().default('127.0.0.1:50051'),
    /** This service's token for auth-broker's AccessTokenService (sent as a bearer token). Unset: loopback trust in development. */
    OUTBOUND_SEND_AUTH_BROKER_TOKEN: z.string().optional(),
    /** Workload-manager API keys: `keyId:tenantId:scope+scope:sha256hex[,…]` (scopes sends.read, sends.write, sends.supervise). */
    OUTBOUND_SEND_API_KEYS: env.parsed(parseApiKeys).optional(),
    /** Concurrent Graph requests per mailbox for sending (Outlook allows 4 per app and mailbox; mailbox-fetch uses 3). */
    OUTBOUND_SEND_GRAPH_CONCURRENCY_PER_MAILBOX: env.int({ min: 1, max: 4, default: 1 }),
    /** Concurrent Graph requests of the replica over all mailboxes. */
    OUTBOUND_SEND_GRAPH_CONCURRENCY_GLOBAL: env.int({ min: 1, max: 10_000, default: 64 }),
    /** Graph request timeout; a send that times out is ambiguous and is checked in Sent Items before any resend. */
    OUTBOUND_SEND_GRAPH_TIMEOUT_MS: env.int({ min: 1_000, max: 300_000, default: 30_000 }),
    /** Messages per mailbox per OUTBOUND_SEND_RATE_WINDOW_MS (Exchange Online allows 30 per minute). */
    OUTBOUND_SEND_RATE_PER_WINDOW: env.int({ min: 1, max: 10_000, default: 30 }),
    OUTBOUND_SEND_RATE_WINDOW_MS: env.int({ min: 1_000, max: 3_600_000, default: 60_000 }),
    /** How long a send may wait for the mailbox's rate limit before it fails SEND_RATE_EXCEEDED. */
    OUTBOUND_SEND_RATE_MAX_WAIT_MS: env.int({ min: 0, max: 86_400_000, default: 900_000 }),
    /** Transient failures are retried this long after the request, then it fails RETRIES_EXHAUSTED. */
    OUTBOUND_SEND_RETRY_BUDGET_MS: env.int({ min: 1_000, max: 7 * 86_400_000, default: 86_400_000 }),
    /** A send whose outcome is unknown stays CHECKING this long while the check (Sent Items, then the draft) keeps failing, then ends OUTCOME_UNKNOWN (never FAILED). */
    OUTBOUND_SEND_OUTCOME_CHECK_BUDGET_MS: env.int({ min: 1_000, max: 7 * 86_400_000, default: 3_600_000 }),
    /** First backoff after a transient failure (doubles up to 5 min, jittered; Retry-After wins when longer). */
    OUTBOUND_SEND_BACKOFF_BASE_MS: env.int({ min: 10, max: 600_000, default: 1_000 }),
    /** An attempt marker older than this belongs to a crashed replica; its attempt is resolved through Sent Items. */
    OUTBOUND_SEND_ATTEMPT_STALE_MS: env.int({ min: 500, max: 3_600_000, default: 180_000 }),
    /** A replica without a heartbeat (in the store) this long is gone: its unfinished attempts are resolved at once, not after OUTBOUND_SEND_ATTEMPT_STALE_MS. */
    OUTBOUND_SEND_REPLICA_DEAD_AFTER_MS: env.int({ min: 1_000, max: 3_600_000, default: 30_000 }),
    /** Attachments above this size go through a Graph upload session (Graph's single-request limit is 3 MB). */
    OUTBOUND_SEND_INLINE_ATTACHMENT_MAX_BYTES: env.int({ min: 1, max: 3_000_000, default: 3_000_000 }),
    /** Tests only: pause after Graph accepted a send and before it is recorded (the window a crash test kills in). */
    OUTBOUND_SEND_TEST_PAUSE_AFTER_SEND_MS: env.int({ min: 0, max: 60_000, default: 0 }),
    /** Prometheus scrape port (GET /metrics); 0 = any free port. */
    OUTBOUND_SEND_METRICS_PORT: env.port(9467),
    OUTBOUND_SEND_METRICS_HOST: z.string().default('127.0.0.1'),
    /** Replica id in attempt markers; default `<hostname>-<pid>`. */
    OUTBOUND_SEND_REPLICA_ID: z.string().optional(),
  })
  .superRefine((config, context) => {
    if (config.OUTBOUND_SEND_STORE === 'mongodb' && !config.OUTBOUND_SEND_MONGODB_URL) {
      addConfigProblem(context, 'OUTBOUND_SEND_MONGODB_URL', 'is required when OUTBOUND_SEND_STORE=mongodb');
    }
  });
