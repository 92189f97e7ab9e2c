import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createChannel, createClient, Metadata, type Channel } from 'nice-grpc';
import {
  AgentDesktopServiceDefinition,
  InboundEmail,
  InteractionRouterServiceDefinition,
  type AgentDesktopServiceClient,
  type InteractionRouterServiceClient,
  type ConnectResponse,
  type OutboundRequest,
} from '@mailroute/contracts';
import {
  eventKey,
  events,
  fromEventMessage,
  KafkaEventBus,
  toEventMessage,
  type EventBus,
  type Subscription,
} from '@mailroute/messaging';
import {
  createCallerAuthenticator,
  createEntraTokenVerifier,
  createLogger,
  hashBearerCredential,
  staticJwks,
  type EntraTokenVerifier,
} from '@mailroute/platform';
import { waitFor } from '@mailroute/testing';
import { composeInteractionRouter, type RouterServer } from '../src/compose';
import { openMongoRouterStores, type RouterStores } from '../src/store/router-stores';

const issuerBase = 'https://login.test';
const audience = 'desktop-app';

/** Signs Entra-like ID tokens with a test key; `verifier` trusts the given directories. */
export async function createTestIdentityProvider(directories: Map<string, string>) {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const verifier: EntraTokenVerifier = createEntraTokenVerifier({
    directories,
    audience,
    issuerFor: (tid) => `${issuerBase}/${tid}/v2.0`,
    keysFor: () => staticJwks({ keys: [jwk] }),
  });
  return {
    verifier,
    async token(
      tid: string,
      oid: string,
      overrides: { audience?: string; issuer?: string; expiresIn?: string } = {},
    ): Promise<string> {
      return new SignJWT({ tid, oid, preferred_username: `${oid}@test`, name: oid })
        .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
        .setIssuer(overrides.issuer ?? `${issuerBase}/${tid}/v2.0`)
        .setAudience(overrides.audience ?? audience)
        .setIssuedAt()
        .setExpirationTime(overrides.expiresIn ?? '1h')
        .sign(privateKey);
    },
  };
}

export interface Harness {
  stores: RouterStores;
  bus: EventBus;
  replicas: { server: RouterServer; address: string }[];
  groupId: string;
  apiKey(tenantId: string): string;
  admin(tenantId: string, replica?: number): InteractionRouterServiceClient;
  desktop(token: string, replica?: number): AgentDesktopServiceClient;
  publishInbound(event: Partial<InboundEmail> & { tenantId: string; interactionId: string }): Promise<void>;
  startReplica(): Promise<void>;
  close(): Promise<void>;
}

const silent = new Writable({ write: (_chunk, _encoding, done) => done() });

export interface HarnessOptions {
  replicas: number;
  tenants: string[];
  verifier: EntraTokenVerifier;
  /** The real servers (`testInfra()` of @mailroute/testing, or a suite's own broker). */
  infra: { kafkaBrokers: string[]; mongoUrl: string };
  sessionTtlMs?: number;
  /** How often each replica's outbox relay runs (see RouterRuntimeOptions.relayIntervalMs). */
  relayIntervalMs?: number;
  /** Each replica's alert sweep interval (InteractionRouterSettings.alertSweepIntervalMs). */
  alertSweepIntervalMs?: number;
  /** Reply uploads' expiry and sweep (InteractionRouterSettings). */
  uploadTtlMs?: number;
  uploadSweepIntervalMs?: number;
}

const randomId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 12)}`;

/** Real FerretDB + Kafka, N router replicas on 127.0.0.1:0 sharing one database and consumer group. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const { infra } = options;
  const database = randomId('router');
  const stores = profiled(await openMongoRouterStores(infra.mongoUrl, database));
  const logger = createLogger({
    name: 'router-test',
    level: process.env['ROUTER_TEST_DEBUG'] ? 'debug' : 'warn',
    ...(process.env['ROUTER_TEST_DEBUG'] ? {} : { destination: silent }),
  });
  const bus = new KafkaEventBus({
    brokers: infra.kafkaBrokers,
    clientId: 'router-test',
    logger,
    partitionsConsumedConcurrently: 4,
  });
  const keys = new Map(options.tenants.map((tenant) => [tenant, `mrk_${randomUUID()}`]));
  const authenticator = createCallerAuthenticator({
    apiKeys: [...keys].map(([tenantId, key]) => ({
      id: `key-${tenantId}`,
      tenantId,
      scopes: ['routing.read', 'routing.write'],
      sha256: hashBearerCredential(key),
    })),
  });
  const groupId = randomId('router-group');
  const replicas: Harness['replicas'] = [];
  const channels: Channel[] = [];
  const channelFor = (index: number) => {
    const replica = replicas[index];
    if (!replica) throw new Error(`no replica ${index}`);
    const channel = createChannel(replica.address);
    channels.push(channel);
    return channel;
  };
  async function startReplica(): Promise<void> {
    const server = composeInteractionRouter(
      { logger, stores, bus, authenticator, agentVerifier: options.verifier },
      {
        consumerGroupId: groupId,
        inboundFromBeginning: false,
        pollIntervalMs: 300,
        sweepIntervalMs: 200,
        // A third of the TTL: each refresh is a write, and 50 agents' refreshes compete with routing for FerretDB.
        sessionRefreshMs: Math.round((options.sessionTtlMs ?? 6_000) / 3),
        sessionTtlMs: options.sessionTtlMs ?? 6_000,
        plannerLeaseMs: 3_000,
        ...(options.relayIntervalMs ? { relayIntervalMs: options.relayIntervalMs } : {}),
        alertSweepIntervalMs: options.alertSweepIntervalMs,
        uploadTtlMs: options.uploadTtlMs,
        uploadSweepIntervalMs: options.uploadSweepIntervalMs,
      },
    );
    await server.start();
    await waitFor(() => server.runtime.consuming() && server.hub.consuming(), { timeoutMs: 60_000 });
    const port = await server.listen('127.0.0.1', 0);
    replicas.push({ server, address: `127.0.0.1:${port}` });
  }
  for (let i = 0; i < options.replicas; i += 1) await startReplica();
  return {
    stores,
    bus,
    replicas,
    groupId,
    startReplica,
    apiKey: (tenantId) => keys.get(tenantId) ?? 'mrk_unknown',
    admin: (tenantId, replica = 0) =>
      createClient(InteractionRouterServiceDefinition, channelFor(replica), {
        '*': { metadata: Metadata({ authorization: `Bearer ${keys.get(tenantId) ?? 'unknown'}` }) },
      }),
    desktop: (token, replica = 0) =>
      createClient(AgentDesktopServiceDefinition, channelFor(replica), {
        '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
      }),
    async publishInbound(event) {
      const message = InboundEmail.fromPartial({
        eventId: randomUUID(),
        occurredAt: new Date(),
        mailboxId: 'support',
        mailboxAddress: 'support@contoso.test',
        ...event,
      });
      await bus.publish(
        events.inboundEmail.topic,
        toEventMessage('inboundEmail', eventKey(message.tenantId, message.mailboxId), message),
      );
    },
    async close() {
      channels.forEach((channel) => channel.close());
      for (const { server } of replicas) {
        await server.shutdown(1_000).catch(() => undefined);
        await server.stop().catch(() => undefined);
      }
      await bus.close();
      await stores.close();
      if (process.env['ROUTER_TEST_PROFILE']) printProfile();
    },
  };
}

/** ROUTER_TEST_PROFILE=1: time every store call per table and method (where a run's time goes). */
const profile = new Map<string, { calls: number; ms: number }>();
function profiled(stores: RouterStores): RouterStores {
  if (!process.env['ROUTER_TEST_PROFILE']) return stores;
  const wrap = <T extends object>(name: string, target: T): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const started = performance.now();
          const result = (value as (...a: unknown[]) => unknown).apply(object, args);
          const done = () => {
            const entry = profile.get(`${name}.${String(property)}`) ?? { calls: 0, ms: 0 };
            entry.calls += 1;
            entry.ms += performance.now() - started;
            profile.set(`${name}.${String(property)}`, entry);
          };
          if (result instanceof Promise) result.then(done, done);
          return result;
        };
      },
    });
  const out: Record<string, unknown> = {};
  for (const [name, table] of Object.entries(stores))
    out[name] = typeof table === 'object' && table !== null ? wrap(name, table) : table;
  return out as unknown as RouterStores;
}
function printProfile(): void {
  const rows = [...profile].sort((a, b) => b[1].ms - a[1].ms);
  process.stdout.write(
    `store profile (total ms, calls, ms/call):\n${rows.map(([k, v]) => `  ${k.padEnd(32)} ${Math.round(v.ms).toString().padStart(8)} ${String(v.calls).padStart(7)} ${(v.ms / v.calls).toFixed(1).padStart(7)}`).join('\n')}\n`,
  );
}

/** Collects a desktop stream's events in the background (the stream ends with the test). */
export function collectStream(stream: AsyncIterable<ConnectResponse>) {
  const received: ConnectResponse[] = [];
  const done = (async () => {
    try {
      for await (const message of stream) received.push(message);
    } catch {
      // the stream ends with the test
    }
  })();
  return {
    received,
    done,
    /** The messages of one kind, in order. */
    of: <C extends string>(kind: C) => received.filter((m) => m.event?.$case === kind),
    /** The offers received, in order. */
    offers: () => received.flatMap((m) => (m.event?.$case === 'offer' ? [m.event.value] : [])),
  };
}

/** One router replica with a queue 'support' and one agent connected on a desktop stream (which has had its snapshot). */
export interface RouterDesk {
  harness: Harness;
  /** The agent's desktop client. */
  desktop: AgentDesktopServiceClient;
  /** The agent's desktop stream (clientInstanceId 'desk-1'). */
  stream: ReturnType<typeof collectStream>;
  /** Ends the stream and closes the router. */
  close(): Promise<void>;
}

/**
 * Starts the router of a suite that brings its own broker (`infra.kafkaBrokers`): one replica, the
 * queues given (the first is the agent's), one agent signed in through a test identity provider
 * and its desktop stream, connected once the snapshot has arrived.
 */
export async function startRouterDesk(options: {
  tenant: string;
  directory: string;
  infra: HarnessOptions['infra'];
  queues: { queueId: string; displayName: string; offerTimeoutSeconds: number }[];
  agent: { agentId: string; displayName: string; capacity: number };
  relayIntervalMs?: number;
}): Promise<RouterDesk> {
  const { tenant, directory, agent } = options;
  const idp = await createTestIdentityProvider(new Map([[directory, tenant]]));
  const harness = await startHarness({
    infra: options.infra,
    replicas: 1,
    tenants: [tenant],
    verifier: idp.verifier,
    ...(options.relayIntervalMs ? { relayIntervalMs: options.relayIntervalMs } : {}),
  });
  const abort = new AbortController();
  let stream: ReturnType<typeof collectStream> | undefined;
  try {
    const admin = harness.admin(tenant);
    for (const queue of options.queues) {
      await admin.createQueue({
        queueId: queue.queueId,
        queue: { displayName: queue.displayName, offerTimeout: { seconds: queue.offerTimeoutSeconds, nanos: 0 } },
      });
    }
    const entraObjectId = `oid-${agent.agentId}`;
    await admin.createAgent({
      agentId: agent.agentId,
      agent: {
        displayName: agent.displayName,
        entraObjectId,
        queueIds: options.queues.slice(0, 1).map((q) => q.queueId),
        capacity: agent.capacity,
        skills: [],
      },
    });
    const token = await idp.token(directory, entraObjectId);
    const connected = collectStream(harness.desktop(token).connect({ clientInstanceId: 'desk-1' }, { signal: abort.signal }));
    stream = connected;
    await waitFor(() => connected.of('snapshot').length === 1, { timeoutMs: 120_000 });
    const close = async () => {
      abort.abort();
      await connected.done;
      await harness.close();
    };
    return { harness, desktop: harness.desktop(token), stream: connected, close };
  } catch (error) {
    abort.abort();
    await stream?.done;
    await harness.close();
    throw error;
  }
}

/** Records the OutboundRequest events of one tenant from now on (its own consumer group); resolves once it consumes. */
export async function watchOutboundRequests(
  harness: Pick<Harness, 'bus'>,
  tenantId: string,
): Promise<{ requests: OutboundRequest[]; subscription: Subscription }> {
  const requests: OutboundRequest[] = [];
  const subscription = await harness.bus.subscribe({
    groupId: randomId('outbound-watch'),
    topics: [events.outboundRequest.topic],
    fromBeginning: false,
    handler: async (message) => {
      const request = fromEventMessage('outboundRequest', message);
      if (request.tenantId === tenantId) requests.push(request);
    },
  });
  await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 60_000 });
  return { requests, subscription };
}
