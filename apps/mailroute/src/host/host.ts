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
import { loadHostSecrets, type HostSecrets } from './host-secrets';
import { hostGrpcTls, serviceEnvironment } from './service-environment';

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
