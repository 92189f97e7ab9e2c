import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createLogger, type Logger } from '@mailroute/platform';
import { GraphSandboxAdminClient } from './admin/admin-client';
import { registerAdminRoutes } from './admin/admin.routes';
import { seedDemoProfile, type DemoSummary } from './admin/demo-profile';
import { registerEntraRoutes } from './entra/entra.routes';
import { createGrantStore } from './entra/grant-store';
import { createSigningKey, createTokenIssuer } from './entra/token-issuer';
import { registerGraphRoutes } from './graph/graph.routes';
import { createSandboxState, defaultThrottling, type SandboxState } from './model/sandbox-state';
import { SubscriptionsAdminClient } from './subscriptions/subscriptions-admin-client';
import { registerSubscriptionAdminRoutes } from './subscriptions/subscriptions-admin.routes';
import { registerSubscriptionRoutes } from './subscriptions/subscriptions.routes';
import {
  createSubscriptionRegistry,
  defaultSubscriptionSettings,
  type SubscriptionRegistry,
} from './subscriptions/subscription-registry';
import { systemClock, type Clock } from './shared/clock';
import type { SandboxContext } from './shared/sandbox-context';
import { createFaultInjector, createRandom } from './throttling/fault-injector';
import { createMailboxLimiter } from './throttling/mailbox-limiter';
import { spkiSha256, trustCertificateAuthority } from './transport/ca-trust';
import { loadOrCreateTlsMaterial } from './transport/certificates';

const optionsSchema = z
  .object({
    /** Interface both listeners bind; loopback by default. The admin API always binds loopback. */
    host: z.string().default('127.0.0.1'),
    /** HTTPS port for Entra and Graph; 0 picks a free port. */
    port: z.number().int().min(0).max(65535).default(0),
    /** Plain-HTTP admin port on 127.0.0.1; 0 picks a free port. */
    adminPort: z.number().int().min(0).max(65535).default(0),
    /** Where the CA and server certificate are loaded from or written to; a fresh temp dir when unset. */
    certDir: z.string().optional(),
    /** `demo` seeds the demo tenant (see demoProfile); `empty` starts with no tenant. */
    profile: z.enum(['demo', 'empty']).default('empty'),
    /** The demo desktop app's SPA redirect URIs (the web console's URL); default `http://127.0.0.1:8080/`. */
    consoleRedirectUris: z.array(z.url()).min(1).optional(),
    accessTokenLifetimeSeconds: z.number().int().min(1).default(3599),
    refreshTokenLifetimeSeconds: z
      .number()
      .int()
      .min(1)
      .default(90 * 86_400),
    /** Refresh tokens of single-page apps live this long from the sign-in (Entra: 24 hours). */
    spaRefreshTokenLifetimeSeconds: z.number().int().min(1).default(86_400),
    deviceCodeIntervalSeconds: z.number().int().min(0).default(5),
    deviceCodeLifetimeSeconds: z.number().int().min(1).default(900),
    deltaTokenMaxAgeSeconds: z.number().int().min(0).default(0),
    defaultDeltaPageSize: z.number().int().min(1).max(1000).default(10),
    throttling: z
      .object({
        maxConcurrentRequests: z.number().int().min(1),
        requestsPerWindow: z.number().int().min(1),
        windowSeconds: z.number().int().min(1),
        concurrencyRetryAfterSeconds: z.number().int().min(0),
      })
      .partial()
      .strict()
      .default({}),
    /** Seed of the fault switches' random draws (probabilities, latency distributions). */
    seed: z.number().int().default(1),
    /** Change notifications: lifetimes, handshake and delivery timeouts, retries (defaults: Graph's). */
    subscriptions: z
      .object({
        maxLifetimeMinutes: z.number().int().min(1),
        validationTimeoutMs: z.number().int().min(1),
        notificationTimeoutMs: z.number().int().min(1),
        notificationMaxAttempts: z.number().int().min(1),
        notificationRetryBaseMs: z.number().int().min(0),
        changeScanIntervalMs: z.number().int().min(1),
      })
      .partial()
      .strict()
      .default({}),
    /** CAs (PEM) trusted for subscribers' notification URLs, besides the system roots and the sandbox's own CA. */
    notificationCaCertsPem: z.array(z.string().min(1)).default([]),
    /** Trust the sandbox's CA in this process (tls default CA list), for in-process clients. Default false. */
    trustCaInProcess: z.boolean().default(false),
  })
  .strict();

/** Options of createGraphSandbox; every field is optional (defaults above). `logger` and `clock` are injected. */
export type GraphSandboxOptions = z.input<typeof optionsSchema> & { logger?: Logger; clock?: Clock };

/** Where a started sandbox listens and what to trust. */
export interface GraphSandboxEndpoints {
  /** `https://127.0.0.1:<port>`: the authority host (`<baseUrl>/<tenant>`) and Graph (`<baseUrl>/v1.0/…`). */
  baseUrl: string;
  /** The Graph client's `baseUrl` (`<baseUrl>/`). */
  graphBaseUrl: string;
  /** `127.0.0.1:<port>`, for MSAL's `knownAuthorities`. */
  authorityHost: string;
  /** `http://127.0.0.1:<adminPort>`. */
  adminUrl: string;
  caCertPem: string;
  /** Set `NODE_EXTRA_CA_CERTS` to this in processes that talk to the sandbox. */
  caCertPath: string;
  /**
   * Base64 SHA-256 of the HTTPS certificate's public key: start Chromium with
   * `--ignore-certificate-errors-spki-list=<this>` (and a `--user-data-dir`) to trust the sandbox, and only it.
   */
  serverCertSpkiSha256: string;
  /** A typed client of the admin API. */
  admin: GraphSandboxAdminClient;
  /** The admin API's change-notification part: subscriptions, lifecycle events, notification faults. */
  subscriptions: SubscriptionsAdminClient;
  /** The demo tenant, when started with `profile: 'demo'`. */
  demo?: DemoSummary;
}

export interface GraphSandbox {
  start(): Promise<GraphSandboxEndpoints>;
  /** Closes both listeners (open connections are cut). Idempotent. */
  stop(): Promise<void>;
  /** The in-memory model (tenants, apps, mailboxes, …), for tests that need to look inside. */
  readonly state: SandboxState;
}

/** Merges defaults and validates options in one place; unknown keys are rejected. */
function toSandboxOptions(options: GraphSandboxOptions = {}) {
  const { logger: _logger, clock: _clock, ...rest } = options;
  return optionsSchema.parse(rest);
}

function addBodyParsers(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
    done(null, new URLSearchParams(body as string)),
  );
  app.removeContentTypeParser('application/json');
  // Graph accepts an empty body on POST actions (send, createReply); fastify's default parser does not.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (error) {
      (error as { statusCode?: number }).statusCode = 400;
      done(error as Error, undefined);
    }
  });
}

/**
 * Creates a local emulator of Entra ID and the Graph mail API. `start()` loads or creates the CA, serves
 * Entra + Graph over HTTPS on `host:port` and the admin API over HTTP on 127.0.0.1:`adminPort`.
 * Never use it in production.
 */
export function createGraphSandbox(options: GraphSandboxOptions = {}): GraphSandbox {
  const settings = toSandboxOptions(options);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ name: 'graph-sandbox', level: 'warn' });
  const state = createSandboxState({ clock, throttling: { ...defaultThrottling, ...settings.throttling } });
  const grants = createGrantStore();
  let baseUrl = '';
  let endpoints: GraphSandboxEndpoints | undefined;
  let servers: FastifyInstance[] = [];
  let subscriptions: SubscriptionRegistry | undefined;
  let starting: Promise<GraphSandboxEndpoints> | undefined;

  const start = async (): Promise<GraphSandboxEndpoints> => {
    const certDir = settings.certDir ?? (await mkdtemp(path.join(tmpdir(), 'graph-sandbox-')));
    const hosts = [...new Set([settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host, '127.0.0.1', 'localhost'])];
    const tls = await loadOrCreateTlsMaterial({ certDir, hosts, clock });
    // Kept beside the CA when the caller chose the folder, so cached tokens survive a restart.
    const signingKey = await createSigningKey(clock, settings.certDir ? path.join(certDir, 'token-signing.json') : undefined);
    const context: SandboxContext = {
      state,
      issuer: createTokenIssuer({
        signingKey,
        clock,
        baseUrl: () => baseUrl,
        accessTokenLifetimeSeconds: settings.accessTokenLifetimeSeconds,
      }),
      faults: createFaultInjector(createRandom(settings.seed)),
      limiter: createMailboxLimiter(clock),
      clock,
      logger,
      settings,
      baseUrl: () => baseUrl,
      tokenSecret: randomBytes(32),
    };

    const api = fastify({
      https: { key: tls.serverKeyPem, cert: tls.serverCertPem },
      bodyLimit: 40 * 1024 * 1024,
      forceCloseConnections: true,
      logger: false,
    });
    addBodyParsers(api);
    registerEntraRoutes(api, context, grants);
    subscriptions?.close();
    subscriptions = createSubscriptionRegistry({
      state,
      clock,
      logger,
      settings: { ...defaultSubscriptionSettings, ...settings.subscriptions },
      trustedCaPems: [tls.caCertPem, ...settings.notificationCaCertsPem],
    });
    registerSubscriptionRoutes(api, context, subscriptions);
    registerGraphRoutes(api, context);
    api.setNotFoundHandler((request, reply) =>
      reply
        .status(404)
        .send({ error: { code: 'NotFound', message: `No sandbox endpoint at ${request.method} ${request.url.split('?')[0]}` } }),
    );

    const admin = fastify({ bodyLimit: 100 * 1024 * 1024, forceCloseConnections: true, logger: false });
    registerAdminRoutes(admin, context, grants, () => ({
      baseUrl,
      adminUrl: endpoints?.adminUrl ?? '',
      caCertPath: tls.caCertPath,
    }));
    registerSubscriptionAdminRoutes(admin, subscriptions);

    servers = [api, admin];
    await api.listen({ host: settings.host, port: settings.port });
    const apiAddress = api.server.address();
    if (!apiAddress || typeof apiAddress === 'string') throw new Error('graph-sandbox: HTTPS listener has no port');
    const publicHost = settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host;
    baseUrl = `https://${publicHost}:${apiAddress.port}`;
    await admin.listen({ host: '127.0.0.1', port: settings.adminPort });
    const adminAddress = admin.server.address();
    if (!adminAddress || typeof adminAddress === 'string') throw new Error('graph-sandbox: admin listener has no port');
    const adminUrl = `http://127.0.0.1:${adminAddress.port}`;
    if (settings.trustCaInProcess) trustCertificateAuthority(tls.caCertPem);
    const demo =
      settings.profile === 'demo'
        ? seedDemoProfile(state, clock(), baseUrl, {
            ...(settings.consoleRedirectUris ? { consoleRedirectUris: settings.consoleRedirectUris } : {}),
          })
        : undefined;
    endpoints = {
      baseUrl,
      graphBaseUrl: `${baseUrl}/`,
      authorityHost: new URL(baseUrl).host,
      adminUrl,
      caCertPem: tls.caCertPem,
      caCertPath: tls.caCertPath,
      serverCertSpkiSha256: spkiSha256(tls.serverCertPem),
      admin: new GraphSandboxAdminClient(adminUrl),
      subscriptions: new SubscriptionsAdminClient(adminUrl),
      ...(demo ? { demo } : {}),
    };
    logger.info({ baseUrl, adminUrl, caCertPath: tls.caCertPath, profile: settings.profile }, 'graph-sandbox listening');
    return endpoints;
  };

  return {
    state,
    start() {
      starting ??= start().catch(async (error: unknown) => {
        await Promise.allSettled(servers.map((server) => server.close()));
        starting = undefined;
        throw error;
      });
      return starting;
    },
    async stop() {
      const running = servers;
      servers = [];
      starting = undefined;
      subscriptions?.close();
      subscriptions = undefined;
      await Promise.allSettled(running.map((server) => server.close()));
    },
  };
}
