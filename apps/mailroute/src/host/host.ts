import path from 'node:path';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { createGraphSandbox, demoProfile, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { InProcessBroker, InProcessEventBus, SqliteBrokerJournal, type EventBus } from '@mailroute/messaging';
import {
  createShutdown,
  ensurePrivateDirectory,
  grpcClientCredentials,
  grpcServerCredentials,
  type GrpcTlsConfig,
  loadConfig,
  serviceSchema,
  type ConfigSchema,
  type Env,
  type Logger,
  type ServiceParts,
  type ShutdownStep,
} from '@mailroute/platform';
import { sandboxEnabled, type HostConfig, type TenantConfig } from './host-config';
import { apiKeysVariable, loadHostSecrets, serviceTokensVariable, type HostSecrets } from './host-secrets';

export type ServiceName = 'auth-broker' | 'mailbox-fetch' | 'interaction-router' | 'outbound-send' | 'web-gateway';

/** What the host hands a service besides its configuration: the adapters it shares with the others. */
export interface SharedAdapters {
  /** The embedded bus every service of the process publishes to and consumes from. Unset: the service builds its own (Kafka). */
  bus?: EventBus;
}

/** A service as the host runs it: its configuration schema and its composition root. */
export interface HostedServiceDefinition {
  name: ServiceName;
  configSchema: ConfigSchema;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service's own parsed config type
  wire(config: any, logger: Logger, adapters: SharedAdapters): Promise<ServiceParts>;
}

export interface HostOptions {
  config: HostConfig;
  services: readonly HostedServiceDefinition[];
  logger: Logger;
  /** Where secrets named by `clientSecretEnv` are read. Default process.env. */
  env?: Env;
}

/** A tenant the host routes for, with everything a client needs to call the services for it. */
export interface HostTenant {
  config: TenantConfig;
  apiKey: string;
  /** True for the sandbox's demo tenant. */
  demo: boolean;
}

export interface RunningHost {
  addresses: Record<ServiceName, string>;
  /** The data directory (private: 0700, its files 0600). */
  dataDir: string;
  sandbox: GraphSandboxEndpoints | undefined;
  tenants: HostTenant[];
  secrets: HostSecrets;
  /** Credentials for the host's own calls to the services (TLS with the `grpc.tls` CA and certificate; plaintext without). */
  grpcCredentials: ChannelCredentials;
  /** Settles when every service's consumers have started (they join after the servers listen); rejects when one could not. */
  consumersStarted: Promise<void>;
  stop(reason?: string): Promise<{ ok: boolean }>;
}

/**
 * The sandbox's demo tenant as a tenant configuration: three routed mailboxes, two queues, three agents
 * (alice and bob are simulated with --demo; carol is left for a person signing in to the console).
 */
function demoTenant(sandbox: GraphSandboxEndpoints): TenantConfig {
  return {
    id: 'demo',
    displayName: 'Contoso (demo, graph sandbox)',
    directoryId: demoProfile.tenantId,
    clientId: demoProfile.clientId,
    clientSecretEnv: 'MAILROUTE_DEMO_CLIENT_SECRET',
    // The sandbox gives the demo secret two years; say one.
    clientSecretExpires: new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10),
    authorityHost: sandbox.baseUrl,
    graphEndpoint: sandbox.baseUrl,
    mailboxes: [
      { id: 'support', address: 'support@contoso-demo.example', queue: 'support' },
      { id: 'sales', address: 'sales@contoso-demo.example', queue: 'sales' },
      { id: 'billing', address: 'billing@contoso-demo.example', queue: 'support' },
    ],
    queues: [
      { id: 'support', displayName: 'Support' },
      { id: 'sales', displayName: 'Sales' },
    ],
    rules: [
      {
        id: 'urgent',
        subjectContains: ['urgent', 'asap', 'outage', 'dringend'],
        queue: 'support',
        priority: 500,
        tags: ['urgent'],
      },
      { id: 'buying', subjectContains: ['quote', 'pricing', 'order more', 'licence', 'license'], queue: 'sales', tags: ['lead'] },
    ],
    agents: [
      { id: 'alice', upn: 'alice@contoso-demo.example', displayName: 'Alice Agent', queues: ['support', 'sales'], capacity: 3 },
      { id: 'bob', upn: 'bob@contoso-demo.example', displayName: 'Bob Agent', queues: ['support'], capacity: 3 },
      { id: 'carol', upn: demoProfile.consoleUsers.agent, displayName: 'Carol Agent', queues: ['support', 'sales'], capacity: 3 },
    ],
  };
}

/**
 * Makes the console's URL (the gateway's port, as 127.0.0.1 and localhost) a SPA redirect URI of the
 * sandbox's desktop app in both demo tenants, so signing in works on whatever port the gateway got.
 */
async function registerConsoleRedirect(sandbox: GraphSandboxEndpoints, port: number): Promise<void> {
  const uris = [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`];
  for (const tenantId of [demoProfile.tenantId, demoProfile.otherTenant.tenantId]) {
    const app = await sandbox.admin.getApp(tenantId, demoProfile.desktopClientId);
    const missing = uris.filter((uri) => !app.spaRedirectUris.includes(uri));
    if (missing.length > 0)
      await sandbox.admin.updateApp(tenantId, demoProfile.desktopClientId, {
        spaRedirectUris: [...app.spaRedirectUris, ...missing],
      });
  }
}

/**
 * Runs the four services, the web gateway (the console) and (unless real tenants only) the graph sandbox in this process, on the
 * embedded adapters or on Kafka/MongoDB by configuration. Services start in dependency order and stop
 * in reverse; each gets the environment its own `main.ts` would read, so the same composition roots
 * run here, in separate processes and in Kubernetes.
 */
export async function startHost(options: HostOptions): Promise<RunningHost> {
  const { config, logger } = options;
  const env = options.env ?? process.env;
  ensurePrivateDirectory(config.dataDir);
  const steps: ShutdownStep[] = [];
  const stopAll = () => createShutdown(logger, [...steps].reverse(), 20_000).run('host stopping');
  try {
    let sandbox: GraphSandbox | undefined;
    let sandboxEndpoints: GraphSandboxEndpoints | undefined;
    if (sandboxEnabled(config)) {
      sandbox = createGraphSandbox({
        logger: logger.child({ service: 'graph-sandbox' }),
        host: '127.0.0.1',
        port: config.sandbox.port,
        adminPort: config.sandbox.adminPort,
        certDir: path.join(config.dataDir, 'sandbox-certs'),
        profile: 'demo',
        // One process: trust the sandbox's CA here instead of NODE_EXTRA_CA_CERTS.
        trustCaInProcess: true,
      });
      sandboxEndpoints = await sandbox.start();
      const started = sandbox;
      steps.push({ name: 'graph-sandbox', run: () => started.stop() });
    }

    const tenants: TenantConfig[] = [...(sandboxEndpoints ? [demoTenant(sandboxEndpoints)] : []), ...config.tenants];
    const secrets = loadHostSecrets(
      config.dataDir,
      tenants.map((tenant) => tenant.id),
    );

    let broker: InProcessBroker | undefined;
    if (config.bus.kind === 'embedded') {
      broker = new InProcessBroker({ journal: new SqliteBrokerJournal({ path: path.join(config.dataDir, 'bus.sqlite') }) });
      const opened = broker;
      steps.push({ name: 'bus journal', run: async () => opened.close() });
    }

    const addresses = {} as Record<ServiceName, string>;
    const ports: Record<ServiceName, number> = {
      'auth-broker': config.ports.authBroker,
      'mailbox-fetch': config.ports.mailboxFetch,
      'interaction-router': config.ports.interactionRouter,
      'outbound-send': config.ports.outboundSend,
      'web-gateway': config.ports.webGateway,
    };
    const order: ServiceName[] = ['auth-broker', 'mailbox-fetch', 'interaction-router', 'outbound-send', 'web-gateway'];
    const starting: Promise<void>[] = [];
    for (const name of order) {
      const definition = options.services.find((service) => service.name === name);
      if (!definition) throw new Error(`the host has no definition of the ${name} service`);
      const serviceEnv = serviceEnvironment(name, {
        config,
        secrets,
        addresses,
        port: ports[name],
        sandbox: sandboxEndpoints,
        tenants,
      });
      const serviceConfig = loadConfig(serviceSchema(definition.configSchema), serviceEnv);
      const serviceLogger = logger.child({ service: name });
      const adapters: SharedAdapters = broker ? { bus: new InProcessEventBus({ broker, logger: serviceLogger }) } : {};
      const parts = await definition.wire(serviceConfig, serviceLogger, adapters);
      // The four gRPC services serve TLS with the `grpc.tls` certificate (plaintext without); the gateway serves HTTP.
      const credentials = name === 'web-gateway' ? undefined : grpcServerCredentials(serviceConfig as GrpcTlsConfig);
      const port = await parts.server.listen('127.0.0.1', ports[name], credentials);
      addresses[name] = `127.0.0.1:${port}`;
      const closers = parts.closeAfterServer ?? [];
      steps.push({
        name,
        run: async () => {
          await parts.server.shutdown(5_000);
          for (const step of closers) {
            try {
              await step.run();
            } catch (error) {
              serviceLogger.warn({ err: error, step: step.name }, 'host: a shutdown step failed');
            }
          }
        },
      });
      logger.info({ service: name, address: addresses[name] }, `${name} listening`);
      if (name === 'web-gateway' && sandboxEndpoints) await registerConsoleRedirect(sandboxEndpoints, port);
      if (parts.startAfterListen) starting.push(parts.startAfterListen());
    }

    const hostTenants = tenants.map((tenant) => ({
      config: tenant,
      apiKey: secrets.apiKeys[tenant.id] ?? '',
      demo: sandboxEndpoints !== undefined && tenant.id === 'demo',
    }));
    for (const tenant of hostTenants) {
      if (!tenant.demo && !env[tenant.config.clientSecretEnv]) {
        logger.warn(
          { tenant: tenant.config.id, variable: tenant.config.clientSecretEnv },
          'host: the client secret variable is not set; the tenant keeps its stored credentials',
        );
      }
    }
    const consumersStarted = Promise.all(starting).then(() => undefined);
    // Observed here so that a failure before the caller looks is not an unhandled rejection.
    consumersStarted.catch(() => undefined);
    return {
      addresses,
      dataDir: config.dataDir,
      sandbox: sandboxEndpoints,
      tenants: hostTenants,
      secrets,
      grpcCredentials: grpcClientCredentials(hostGrpcTls(config.grpc)),
      consumersStarted,
      stop: async () => stopAll(),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

interface EnvironmentInputs {
  config: HostConfig;
  secrets: HostSecrets;
  addresses: Record<ServiceName, string>;
  port: number;
  sandbox: GraphSandboxEndpoints | undefined;
  tenants: readonly TenantConfig[];
}

/** The GRPC_TLS_* variables for the `grpc.tls` configuration (the same for every service and the host's own clients). */
function hostGrpcTls(grpc: HostConfig['grpc']) {
  return {
    GRPC_TLS_CA_FILE: grpc.tls?.caFile,
    GRPC_TLS_CERT_FILE: grpc.tls?.certFile,
    GRPC_TLS_KEY_FILE: grpc.tls?.keyFile,
    GRPC_TLS_RELOAD_INTERVAL_MS: 60_000,
  };
}

function grpcTlsEnvironment(grpc: HostConfig['grpc']): Record<string, string> {
  const tls = hostGrpcTls(grpc);
  const entries: [string, string | undefined][] = [
    ['GRPC_TLS_CA_FILE', tls.GRPC_TLS_CA_FILE],
    ['GRPC_TLS_CERT_FILE', tls.GRPC_TLS_CERT_FILE],
    ['GRPC_TLS_KEY_FILE', tls.GRPC_TLS_KEY_FILE],
    ['GRPC_TLS_REQUIRE_CLIENT_CERT', grpc.tls?.requireClientCert ? 'true' : undefined],
  ];
  return Object.fromEntries(entries.filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** The common KAFKA_* variables (TLS, SASL) for the `bus` configuration; each service validates them. */
function kafkaSecurityEnvironment(bus: HostConfig['bus']): Record<string, string> {
  if (bus.kind !== 'kafka') return {};
  const entries: [string, string | undefined][] = [
    ['KAFKA_TLS', bus.tls ? 'true' : undefined],
    ['KAFKA_TLS_CA_FILE', bus.tls?.caFile],
    ['KAFKA_TLS_CERT_FILE', bus.tls?.certFile],
    ['KAFKA_TLS_KEY_FILE', bus.tls?.keyFile],
    ['KAFKA_TLS_SERVER_NAME', bus.tls?.serverName],
    ['KAFKA_SASL_MECHANISM', bus.sasl?.mechanism],
    ['KAFKA_SASL_USERNAME', bus.sasl?.username],
    ['KAFKA_SASL_PASSWORD_FILE', bus.sasl?.passwordFile],
    ['KAFKA_SASL_OAUTHBEARER_TOKEN_FILE', bus.sasl?.oauthbearerTokenFile],
    ['KAFKA_SASL_OAUTHBEARER_TOKEN_URL', bus.sasl?.oauthbearerTokenUrl],
    ['KAFKA_SASL_OAUTHBEARER_CLIENT_ID', bus.sasl?.oauthbearerClientId],
    ['KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE', bus.sasl?.oauthbearerClientSecretFile],
    ['KAFKA_SASL_OAUTHBEARER_SCOPE', bus.sasl?.oauthbearerScope],
  ];
  return Object.fromEntries(entries.filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** The variables a service's own `main.ts` would read, for the host's configuration. */
function serviceEnvironment(name: ServiceName, inputs: EnvironmentInputs): Env {
  const { config, secrets, addresses } = inputs;
  const file = (base: string) => path.join(config.dataDir, `${base}.sqlite`);
  const mongo = config.store.kind === 'mongodb' ? config.store : undefined;
  const kafka = config.bus.kind === 'kafka' ? config.bus.brokers.join(',') : undefined;
  const groupPrefix = config.bus.kind === 'kafka' && config.bus.consumerGroupPrefix ? `${config.bus.consumerGroupPrefix}-` : '';
  const common: Record<string, string> = {
    ...kafkaSecurityEnvironment(config.bus),
    ...grpcTlsEnvironment(config.grpc),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(inputs.port),
    LOG_LEVEL: config.logLevel,
    SHUTDOWN_GRACE_MS: '5000',
  };
  const store = (prefix: string, base: string): Record<string, string> =>
    mongo
      ? // One database shared by the services, as their defaults have it (outbound-send reads mailbox-fetch's mailbox table).
        { [`${prefix}_STORE`]: 'mongodb', [`${prefix}_MONGODB_URL`]: mongo.url, [`${prefix}_MONGODB_DATABASE`]: mongo.database }
      : { [`${prefix}_STORE`]: 'embedded', [`${prefix}_EMBEDDED_PATH`]: file(base) };
  // Attachment content of the embedded default: one private directory the services share (with MongoDB, a GridFS bucket).
  const blobs = (prefix: string): Record<string, string> =>
    mongo ? {} : { [`${prefix}_BLOB_DIR`]: path.join(config.dataDir, 'blobs') };
  const apiKeys = apiKeysVariable(secrets);
  // Agents and supervisors sign in to one desktop app: the router, mailbox-fetch and the auth-broker verify its tokens alike.
  const signIn = {
    directories: inputs.tenants.map((tenant) => `${tenant.id}:${tenant.directoryId}`).join(','),
    authority: config.agentSignIn.authorityHost ?? inputs.tenants[0]?.authorityHost ?? 'https://login.microsoftonline.com',
    // The demo's agents sign in to the sandbox's desktop app registration (a public client).
    audience: config.agentSignIn.audience ?? (inputs.sandbox ? demoProfile.desktopClientId : (inputs.tenants[0]?.clientId ?? '')),
  };
  const supervisorSignIn = (prefix: string): Record<string, string> => ({
    [`${prefix}_SUPERVISOR_DIRECTORIES`]: signIn.directories,
    [`${prefix}_SUPERVISOR_AUDIENCE`]: signIn.audience,
    [`${prefix}_SUPERVISOR_AUTHORITY`]: signIn.authority,
  });
  switch (name) {
    case 'auth-broker': {
      // The operator's configuration names the tenants' clouds (the sandbox's among them): those hosts
      // are allowed for CUSTOM clouds, nothing else beyond the national clouds.
      const origins = new Set(
        inputs.tenants
          .flatMap((tenant) => [tenant.authorityHost, tenant.graphEndpoint])
          .filter((url): url is string => Boolean(url))
          .map((url) => new URL(url).origin),
      );
      return {
        ...common,
        ...store('AUTH_BROKER', 'auth-broker'),
        AUTH_BROKER_ALLOWED_CLOUD_ORIGINS: [...origins].join(','),
        AUTH_BROKER_SERVICE_TOKENS: serviceTokensVariable(secrets),
        AUTH_BROKER_ENCRYPTION_KEYS: `host:${secrets.encryptionKey}`,
        AUTH_BROKER_API_KEYS: apiKeys,
        ...supervisorSignIn('AUTH_BROKER'),
        AUTH_BROKER_METRICS_PORT: '0',
      };
    }
    case 'mailbox-fetch':
      return {
        ...common,
        ...store('MAILBOX_FETCH', 'mailbox-fetch'),
        ...blobs('MAILBOX_FETCH'),
        MAILBOX_FETCH_AUTH_BROKER_ADDRESS: addresses['auth-broker'],
        MAILBOX_FETCH_AUTH_BROKER_TOKEN: secrets.serviceTokens['mailbox-fetch'],
        MAILBOX_FETCH_API_KEYS: apiKeys,
        ...supervisorSignIn('MAILBOX_FETCH'),
        MAILBOX_FETCH_METRICS_PORT: '0',
        // The sandbox delivers instantly: poll often so the demo feels live.
        ...(config.pollIntervalCapMs !== undefined
          ? { MAILBOX_FETCH_POLL_INTERVAL_CAP_MS: String(config.pollIntervalCapMs) }
          : inputs.sandbox
            ? { MAILBOX_FETCH_POLL_INTERVAL_CAP_MS: '2000' }
            : {}),
        ...(kafka ? { MAILBOX_FETCH_KAFKA_BROKERS: kafka } : {}),
        ...(config.push
          ? {
              MAILBOX_FETCH_PUSH_PUBLIC_URL: config.push.publicUrl,
              MAILBOX_FETCH_PUSH_HOST: config.push.host,
              MAILBOX_FETCH_PUSH_PORT: String(config.push.port),
              MAILBOX_FETCH_PUSH_TLS_CERT_FILE: config.push.tlsCertFile,
              MAILBOX_FETCH_PUSH_TLS_KEY_FILE: config.push.tlsKeyFile,
              // The host's own key ring; bound to each subscription id, so a sealed clientState opens nowhere else.
              MAILBOX_FETCH_PUSH_CLIENT_STATE_KEYS: `host:${secrets.encryptionKey}`,
            }
          : {}),
      };
    case 'interaction-router': {
      return {
        ...common,
        ...store('ROUTER', 'interaction-router'),
        ...blobs('ROUTER'),
        ROUTER_API_KEYS: apiKeys,
        ROUTER_AGENT_DIRECTORIES: signIn.directories,
        ROUTER_AGENT_AUDIENCE: signIn.audience,
        ROUTER_AGENT_AUTHORITY: signIn.authority,
        ROUTER_METRICS_PORT: '0',
        ...(kafka ? { ROUTER_KAFKA_BROKERS: kafka, ROUTER_CONSUMER_GROUP: `${groupPrefix}interaction-router` } : {}),
      };
    }
    case 'outbound-send':
      return {
        ...common,
        ...store('OUTBOUND_SEND', 'outbound-send'),
        ...blobs('OUTBOUND_SEND'),
        OUTBOUND_SEND_MAILBOX_FETCH_EMBEDDED_PATH: file('mailbox-fetch'),
        OUTBOUND_SEND_AUTH_BROKER_ADDRESS: addresses['auth-broker'],
        OUTBOUND_SEND_AUTH_BROKER_TOKEN: secrets.serviceTokens['outbound-send'],
        OUTBOUND_SEND_API_KEYS: apiKeys,
        OUTBOUND_SEND_METRICS_PORT: '0',
        ...(kafka ? { OUTBOUND_SEND_KAFKA_BROKERS: kafka, OUTBOUND_SEND_CONSUMER_GROUP: `${groupPrefix}outbound-send` } : {}),
      };
    case 'web-gateway': {
      // The console signs in where the router's agents do: the sandbox's desktop app (also a SPA) by default.
      const authorityHost =
        config.agentSignIn.authorityHost ?? inputs.tenants[0]?.authorityHost ?? 'https://login.microsoftonline.com';
      const directory = inputs.tenants[0]?.directoryId;
      const clientId =
        config.agentSignIn.audience ?? (inputs.sandbox ? demoProfile.desktopClientId : (inputs.tenants[0]?.clientId ?? ''));
      return {
        ...common,
        WEB_GATEWAY_HOST: '127.0.0.1',
        WEB_GATEWAY_PORT: String(inputs.port),
        WEB_GATEWAY_ROUTER_ADDRESS: addresses['interaction-router'],
        WEB_GATEWAY_MAILBOX_FETCH_ADDRESS: addresses['mailbox-fetch'],
        WEB_GATEWAY_AUTH_BROKER_ADDRESS: addresses['auth-broker'],
        WEB_GATEWAY_METRICS_PORT: '0',
        ...(directory && clientId
          ? { WEB_GATEWAY_AUTHORITY: `${authorityHost.replace(/\/+$/, '')}/${directory}`, WEB_GATEWAY_CLIENT_ID: clientId }
          : {}),
      };
    }
  }
}
