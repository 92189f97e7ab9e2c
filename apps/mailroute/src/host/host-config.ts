import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, starting with a letter or digit');

const mailboxSchema = z.object({
  /** The mailbox's id in mailroute (unique in its tenant). */
  id,
  /** The address or UPN of the user or shared mailbox in Microsoft 365. */
  address: z.email(),
  /** The queue its email goes to when no routing rule matches. */
  queue: id.optional(),
  /** Seconds between sync rounds (10–3600; mailbox-fetch's default 60). */
  pollIntervalSeconds: z.number().int().min(10).max(3600).optional(),
});

const queueSchema = z.object({ id, displayName: z.string().min(1).max(200).optional() });

/** A routing rule, in order (the first match wins): subject words → a queue, with a priority and tags. */
const ruleSchema = z.object({
  id,
  /** Matches when the subject contains any of these (case-insensitive). */
  subjectContains: z.array(z.string().min(1).max(200)).min(1).max(20),
  queue: id,
  /** 0–1000, higher is more urgent (default 100). */
  priority: z.number().int().min(0).max(1000).optional(),
  tags: z
    .array(z.string().regex(/^[a-z0-9-]{1,63}$/))
    .max(20)
    .default([]),
});

const agentSchema = z.object({
  id,
  /** The agent's Entra ID user principal name (the account they sign in with). */
  upn: z.email(),
  displayName: z.string().min(1).max(200).optional(),
  /** Queues the agent serves. */
  queues: z.array(id).min(1),
  /** How many email interactions the agent handles at once. */
  capacity: z.number().int().min(1).max(50).default(3),
});

const tenantSchema = z.object({
  /** The tenant's id in mailroute (API keys, stores and events are scoped to it). */
  id,
  displayName: z.string().min(1).max(200).optional(),
  /** The Microsoft Entra tenant (directory) id, a GUID. */
  directoryId: z.uuid(),
  /** The application (client) id of the app registration. */
  clientId: z.uuid(),
  /**
   * The name of the environment variable that holds the client secret. The secret itself never goes
   * in this file; auth-broker stores it encrypted.
   */
  clientSecretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (A-Z, 0-9, _)'),
  /**
   * When the client secret expires, as Entra ID shows it (Certificates & secrets > Expires), e.g.
   * `2027-05-31`: auth-broker warns before it does and diagnosis names it when it did.
   */
  clientSecretExpires: z.iso.date('a date like 2027-05-31'),
  /** The Entra authority host; the public cloud by default. */
  authorityHost: z.url().default('https://login.microsoftonline.com'),
  /** The Microsoft Graph endpoint; the public cloud's by default (national clouds and emulators differ). */
  graphEndpoint: z.url().optional(),
  mailboxes: z.array(mailboxSchema).default([]),
  queues: z.array(queueSchema).default([]),
  rules: z.array(ruleSchema).default([]),
  agents: z.array(agentSchema).default([]),
});

/** The configuration file of `npm start` (JSON). Every field is optional: no file runs the demo. */
export const hostConfigSchema = z
  .object({
    /** Where the embedded stores and the bus journal live; kept across restarts. */
    dataDir: z.string().min(1).default('.mailroute'),
    /** Loopback gRPC ports of the four services and the console's HTTP port (0 picks free ports). */
    ports: z
      .object({
        authBroker: port.default(50051),
        mailboxFetch: port.default(50052),
        interactionRouter: port.default(50053),
        outboundSend: port.default(50054),
        /** The web console (and its gRPC-web gateway): http://127.0.0.1:<port>/ */
        webGateway: port.default(8080),
      })
      .prefault({}),
    /** The graph sandbox with its demo tenant; on unless real tenants are configured. */
    sandbox: z
      .object({
        enabled: z.boolean().optional(),
        port: port.default(8443),
        adminPort: port.default(8444),
      })
      .prefault({}),
    /** The demo switch: generated inbound mail and simulated agents that accept and reply. */
    demo: z
      .object({
        traffic: z.boolean().default(false),
        /** Emails per minute the traffic generator delivers across the demo mailboxes. */
        emailsPerMinute: z.number().int().min(1).max(6000).default(30),
        agents: z.boolean().default(false),
      })
      .prefault({}),
    /** The event bus: the embedded journal (default) or a Kafka cluster. */
    bus: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('embedded') }),
        z.object({
          kind: z.literal('kafka'),
          brokers: z.array(z.string().min(1)).min(1),
          /** Prefixes the services' consumer groups (two installations on one cluster). Default: none. */
          consumerGroupPrefix: z
            .string()
            .regex(/^[A-Za-z0-9._-]{1,64}$/)
            .optional(),
          /** TLS to the brokers (present = on): the KAFKA_TLS_* variables of each service. */
          tls: z
            .object({
              caFile: z.string().min(1).optional(),
              certFile: z.string().min(1).optional(),
              keyFile: z.string().min(1).optional(),
              serverName: z.string().min(1).optional(),
            })
            .strict()
            .optional(),
          /** SASL (the KAFKA_SASL_* variables): secrets only as files. */
          sasl: z
            .object({
              mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']),
              username: z.string().min(1).optional(),
              passwordFile: z.string().min(1).optional(),
              oauthbearerTokenFile: z.string().min(1).optional(),
              oauthbearerTokenUrl: z.url().optional(),
              oauthbearerClientId: z.string().min(1).optional(),
              oauthbearerClientSecretFile: z.string().min(1).optional(),
              oauthbearerScope: z.string().min(1).optional(),
            })
            .strict()
            .optional(),
        }),
      ])
      .default({ kind: 'embedded' }),
    /**
     * gRPC between the services (and the host's own calls to them) over TLS: the GRPC_TLS_* variables of
     * each service. `caFile` alone: clients verify the servers against it; with `certFile`/`keyFile` the
     * services serve TLS with that certificate and present it as their client certificate;
     * `requireClientCert` refuses clients without a certificate from `caFile` (mTLS). Unset: plaintext on loopback.
     */
    grpc: z
      .object({
        tls: z
          .object({
            caFile: z.string().min(1),
            certFile: z.string().min(1).optional(),
            keyFile: z.string().min(1).optional(),
            requireClientCert: z.boolean().default(false),
          })
          .strict()
          .superRefine((tls, context) => {
            const problem = (field: string, message: string) => context.addIssue({ code: 'custom', path: [field], message });
            if (Boolean(tls.certFile) !== Boolean(tls.keyFile))
              problem(tls.certFile ? 'keyFile' : 'certFile', 'is required with the other of certFile/keyFile');
            if (tls.requireClientCert && !tls.certFile)
              problem('certFile', 'is required with requireClientCert (the services present it to each other)');
            for (const field of ['caFile', 'certFile', 'keyFile'] as const) {
              const file = tls[field];
              if (file && !isReadableFile(file)) problem(field, `names a file that cannot be read: ${file}`);
            }
          })
          .optional(),
      })
      .strict()
      .prefault({}),
    /** The stores: embedded SQLite files in dataDir (default) or MongoDB. */
    store: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('embedded') }),
        z.object({
          kind: z.literal('mongodb'),
          url: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// URL'),
          database: z
            .string()
            .regex(/^[A-Za-z0-9_-]{1,63}$/, 'a database name')
            .default('mailroute'),
        }),
      ])
      .default({ kind: 'embedded' }),
    /**
     * Agent sign-in ("Sign in with Microsoft" on the desktop): the authority that issues agents' ID
     * tokens and the desktop app's client id (the tokens' audience). Default: the first tenant's.
     */
    agentSignIn: z.object({ authorityHost: z.url().optional(), audience: z.uuid().optional() }).prefault({}),
    /** Real Microsoft 365 tenants to route for. */
    tenants: z.array(tenantSchema).default([]),
    /**
     * Development and benchmarks: sync every mailbox at least this often (ms), whatever its poll
     * interval. Default: 2000 with the sandbox's demo tenant, otherwise unset.
     */
    pollIntervalCapMs: z.number().int().min(100).max(3_600_000).optional(),
    /**
     * Graph change notifications (docs/real-tenant.md): the public HTTPS base URL Microsoft posts to, and
     * where mailbox-fetch's notification endpoint listens (HTTPS with the given certificate). Unset: polling.
     */
    push: z
      .object({
        publicUrl: z.url().regex(/^https:\/\//, 'an https:// URL (Graph posts only to HTTPS)'),
        host: z.string().default('0.0.0.0'),
        port: z.number().int().min(1).max(65_535).default(8443),
        tlsCertFile: z.string().min(1),
        tlsKeyFile: z.string().min(1),
      })
      .strict()
      .optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type HostConfig = z.infer<typeof hostConfigSchema>;
export type TenantConfig = z.infer<typeof tenantSchema>;

export class HostConfigError extends Error {
  override readonly name = 'HostConfigError';
}

/** Parses a configuration object; the error names every bad field by its path. */
export function parseHostConfig(input: unknown, source = 'configuration'): HostConfig {
  const parsed = hostConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new HostConfigError(`${source} is invalid:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  const tenantIds = new Set<string>();
  for (const [index, tenant] of config.tenants.entries()) {
    if (tenantIds.has(tenant.id))
      throw new HostConfigError(`${source} is invalid:\n  tenants.${index}.id: "${tenant.id}" is used twice`);
    tenantIds.add(tenant.id);
    const queues = new Set(tenant.queues.map((queue) => queue.id));
    for (const [m, mailbox] of tenant.mailboxes.entries()) {
      if (mailbox.queue && !queues.has(mailbox.queue))
        throw new HostConfigError(
          `${source} is invalid:\n  tenants.${index}.mailboxes.${m}.queue: no queue "${mailbox.queue}" in this tenant`,
        );
    }
    for (const [r, rule] of tenant.rules.entries()) {
      if (!queues.has(rule.queue))
        throw new HostConfigError(
          `${source} is invalid:\n  tenants.${index}.rules.${r}.queue: no queue "${rule.queue}" in this tenant`,
        );
    }
    for (const [a, agent] of tenant.agents.entries()) {
      const unknown = agent.queues.find((queue) => !queues.has(queue));
      if (unknown)
        throw new HostConfigError(
          `${source} is invalid:\n  tenants.${index}.agents.${a}.queues: no queue "${unknown}" in this tenant`,
        );
    }
  }
  return config;
}

/** Reads and parses a JSON configuration file; relative `dataDir` is taken from the file's folder. */
export function readHostConfig(file: string): HostConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new HostConfigError(
      `cannot read the configuration file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HostConfigError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const config = parseHostConfig(json, file);
  return { ...config, dataDir: path.resolve(path.dirname(file), config.dataDir) };
}

function isReadableFile(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** True when the graph sandbox runs: asked for, or by default when no real tenant is configured. */
export function sandboxEnabled(config: HostConfig): boolean {
  return config.sandbox.enabled ?? config.tenants.length === 0;
}
