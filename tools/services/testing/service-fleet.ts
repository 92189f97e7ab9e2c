import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { Metadata, createChannel, createClient, type Channel } from 'nice-grpc';
import {
  AgentDesktopServiceDefinition,
  AuthBrokerServiceDefinition,
  AuthorityCloud,
  InteractionRouterServiceDefinition,
  MailboxFetchServiceDefinition,
  QueueStrategy,
  type AgentDesktopServiceClient,
  type ConnectResponse,
  type Interaction,
} from '@mailroute/contracts';
import { demoProfile, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { createGrpcClient, hashBearerCredential } from '@mailroute/platform';
import { randomId, signInWithDeviceCode, testInfra, type ServiceProcess } from '@mailroute/testing';

/**
 * The four services as real processes, for the suites under tools/services: one tenant's secrets
 * and databases, each service's environment (as its deploy/ configuration wires it), the tenant's
 * registration through the public APIs, an agent's desktop stream and the clean-up.
 */
export const serviceOrder = ['auth-broker', 'mailbox-fetch', 'interaction-router', 'outbound-send'] as const;
export type ServiceName = (typeof serviceOrder)[number];

export interface FleetTenant {
  tenantId: string;
  /** The workload manager's API key (all scopes the suites use), and its hash as the services are configured with. */
  apiKey: string;
  apiKeyHash: string;
  /** Service tokens mailbox-fetch and outbound-send present to auth-broker. */
  fetchToken: string;
  sendToken: string;
  encryptionKey: string;
  /** A random database per service (outbound-send reads mailbox-fetch's). */
  databases: { authBroker: string; mailboxes: string; router: string };
  /** Call metadata with the API key. */
  metadata(): Metadata;
}

/** A fresh tenant id, API key, service tokens and databases, named after `prefix`. */
export function newFleetTenant(prefix: string): FleetTenant {
  const apiKey = `mrk_${randomBytes(24).toString('base64url')}`;
  return {
    tenantId: randomId(prefix),
    apiKey,
    apiKeyHash: hashBearerCredential(apiKey),
    fetchToken: `mrs_${randomBytes(16).toString('hex')}`,
    sendToken: `mrs_${randomBytes(16).toString('hex')}`,
    encryptionKey: `k1:${randomBytes(32).toString('base64')}`,
    databases: { authBroker: randomId(`${prefix}-ab`), mailboxes: randomId(`${prefix}-mb`), router: randomId(`${prefix}-ir`) },
    metadata: () => Metadata({ authorization: `Bearer ${apiKey}` }),
  };
}

export interface FleetEnvironmentOptions {
  tenant: FleetTenant;
  endpoints: GraphSandboxEndpoints;
  mongoUrl: string;
  /** Kafka brokers (auth-broker needs none). */
  brokers: string;
  /** Where mailbox-fetch and outbound-send reach auth-broker. */
  authBrokerAddress: string;
  /** Variables every service gets (GRPC_PORT, LOG_LEVEL, NODE_EXTRA_CA_CERTS, …). */
  common: Record<string, string>;
}

/** The environment of one service of the fleet; a suite adds what is its own (replica ids, OTLP, ports). */
export function serviceEnvironment(service: ServiceName, options: FleetEnvironmentOptions): Record<string, string> {
  const { tenant, endpoints, mongoUrl, brokers, authBrokerAddress, common } = options;
  const hash = tenant.apiKeyHash;
  switch (service) {
    case 'auth-broker':
      return {
        ...common,
        AUTH_BROKER_STORE: 'mongodb',
        AUTH_BROKER_MONGODB_URL: mongoUrl,
        AUTH_BROKER_MONGODB_DATABASE: tenant.databases.authBroker,
        AUTH_BROKER_ENCRYPTION_KEYS: tenant.encryptionKey,
        AUTH_BROKER_API_KEYS: `wm:${tenant.tenantId}:credentials.read+credentials.write:${hash}`,
        AUTH_BROKER_SERVICE_TOKENS: `mailbox-fetch:${hashBearerCredential(tenant.fetchToken)},outbound-send:${hashBearerCredential(tenant.sendToken)}`,
        AUTH_BROKER_ALLOWED_CLOUD_ORIGINS: endpoints.baseUrl,
        AUTH_BROKER_METRICS_PORT: '0',
      };
    case 'mailbox-fetch':
      return {
        ...common,
        MAILBOX_FETCH_STORE: 'mongodb',
        MAILBOX_FETCH_MONGODB_URL: mongoUrl,
        MAILBOX_FETCH_MONGODB_DATABASE: tenant.databases.mailboxes,
        MAILBOX_FETCH_KAFKA_BROKERS: brokers,
        MAILBOX_FETCH_AUTH_BROKER_ADDRESS: authBrokerAddress,
        MAILBOX_FETCH_AUTH_BROKER_TOKEN: tenant.fetchToken,
        MAILBOX_FETCH_API_KEYS: `wm:${tenant.tenantId}:mailboxes.read+mailboxes.write:${hash}`,
        MAILBOX_FETCH_METRICS_PORT: '0',
        MAILBOX_FETCH_SCAN_INTERVAL_MS: '500',
        MAILBOX_FETCH_POLL_INTERVAL_CAP_MS: '1000',
      };
    case 'interaction-router':
      return {
        ...common,
        ROUTER_MONGODB_URL: mongoUrl,
        ROUTER_MONGODB_DATABASE: tenant.databases.router,
        ROUTER_KAFKA_BROKERS: brokers,
        ROUTER_API_KEYS: `wm:${tenant.tenantId}:routing.read+routing.write:${hash}`,
        ROUTER_AGENT_DIRECTORIES: `${tenant.tenantId}:${demoProfile.tenantId}`,
        ROUTER_AGENT_AUDIENCE: demoProfile.desktopClientId,
        ROUTER_AGENT_AUTHORITY: endpoints.baseUrl,
      };
    case 'outbound-send':
      return {
        ...common,
        OUTBOUND_SEND_STORE: 'mongodb',
        OUTBOUND_SEND_MONGODB_URL: mongoUrl,
        // Mailbox configurations are read from mailbox-fetch's table in the same database.
        OUTBOUND_SEND_MONGODB_DATABASE: tenant.databases.mailboxes,
        OUTBOUND_SEND_KAFKA_BROKERS: brokers,
        OUTBOUND_SEND_AUTH_BROKER_ADDRESS: authBrokerAddress,
        OUTBOUND_SEND_AUTH_BROKER_TOKEN: tenant.sendToken,
        OUTBOUND_SEND_METRICS_PORT: '0',
      };
  }
}

/**
 * The tenant, as a workload manager registers it through the public APIs: the graph sandbox's demo
 * app as the tenant's credentials, a longest-idle queue `support`, the agents (capacity 5) in it and
 * the mailboxes routed to it.
 */
export async function registerFleetTenant(options: {
  tenant: FleetTenant;
  endpoints: GraphSandboxEndpoints;
  address: (service: ServiceName) => string;
  displayName: string;
  agents: readonly { id: string; upn: string }[];
  mailboxes: readonly string[];
}): Promise<void> {
  const { tenant, endpoints, address } = options;
  const metadata = tenant.metadata;
  const auth = createGrpcClient(AuthBrokerServiceDefinition, address('auth-broker'), { deadlineMs: 30_000 });
  const fetchApi = createGrpcClient(MailboxFetchServiceDefinition, address('mailbox-fetch'), { deadlineMs: 30_000 });
  const router = createGrpcClient(InteractionRouterServiceDefinition, address('interaction-router'), { deadlineMs: 30_000 });
  try {
    await auth.client.createTenantCredentials(
      {
        credentialsId: 'default',
        spec: {
          displayName: options.displayName,
          directoryId: demoProfile.tenantId,
          clientId: demoProfile.clientId,
          cloud: AuthorityCloud.AUTHORITY_CLOUD_CUSTOM,
          authorityHost: endpoints.baseUrl,
          graphEndpoint: endpoints.baseUrl,
          credential: {
            $case: 'clientSecret',
            value: { value: demoProfile.clientSecret, expiresAt: new Date(Date.now() + 90 * 86_400_000) },
          },
        },
      },
      { metadata: metadata() },
    );
    await router.client.createQueue(
      { queueId: 'support', queue: { displayName: 'Support', strategy: QueueStrategy.QUEUE_STRATEGY_LONGEST_IDLE } },
      { metadata: metadata() },
    );
    for (const agent of options.agents) {
      await router.client.createAgent(
        { agentId: agent.id, agent: { displayName: agent.id, userPrincipalName: agent.upn, queueIds: ['support'], capacity: 5 } },
        { metadata: metadata() },
      );
    }
    for (const mailbox of options.mailboxes) {
      await fetchApi.client.createMailbox(
        {
          mailboxId: mailbox.split('@')[0] ?? '',
          mailbox: { address: mailbox, credentialsId: 'default', defaultQueueId: 'support' },
        },
        { metadata: metadata() },
      );
    }
  } finally {
    auth.close();
    fetchApi.close();
    router.close();
  }
}

/** Drops the tenant's databases on the test FerretDB. */
export async function dropFleetDatabases(tenant: FleetTenant): Promise<void> {
  const client = await MongoClient.connect(testInfra().mongoUrl);
  try {
    for (const database of Object.values(tenant.databases))
      await client
        .db(database)
        .dropDatabase()
        .catch(() => undefined);
  } finally {
    await client.close();
  }
}

/** `error` with the last 30 lines of a process's output, for a failure that names what went wrong. */
export function withProcessOutput(label: string, proc: ServiceProcess | undefined, error: unknown): Error {
  return new Error(
    `${label}: ${String(error)}\n--- ${label} output (last 30 lines) ---\n${proc?.output.slice(-30).join('\n') ?? ''}`,
    { cause: error },
  );
}

/** Writes each process's output to `<dir>/<name>.log` (the suites' *_TEST_LOGS=<dir> diagnosis). */
export function writeProcessLogs(dir: string, processes: Iterable<readonly [string, ServiceProcess]>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, proc] of processes) writeFileSync(path.join(dir, `${name}.log`), `${proc.output.join('\n')}\n`);
}

/** An agent signed in with Microsoft (device code against the graph sandbox) and a desktop client on the router at `routerAddress`. */
export async function signInDesktop(
  endpoints: GraphSandboxEndpoints,
  upn: string,
  routerAddress: string,
): Promise<{ desktop: AgentDesktopServiceClient; channel: Channel }> {
  const token = await signInWithDeviceCode(endpoints, endpoints.admin, demoProfile.tenantId, demoProfile.desktopClientId, upn);
  const channel = createChannel(routerAddress);
  const desktop = createClient(AgentDesktopServiceDefinition, channel, {
    '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
  });
  return { desktop, channel };
}

/** Hands one desktop stream update to the agent: interactions to work on (snapshot's assigned, assignments) and offers to accept (snapshot's pending, new offers). */
export function dispatchDesktopUpdate(
  update: ConnectResponse,
  agent: { work(interaction: Interaction): void; accept(offerId: string): void },
): void {
  const event = update.event;
  if (event?.$case === 'snapshot') {
    for (const interaction of event.value.assigned) agent.work(interaction);
    for (const offer of event.value.pendingOffers) agent.accept(offer.offerId);
  } else if (event?.$case === 'offer') agent.accept(event.value.offerId);
  else if (event?.$case === 'assignment' && event.value.interaction) agent.work(event.value.interaction);
}
