// The variables each hosted service's own main.ts would read, derived from the host's configuration
// (stores, bus and its security, gRPC TLS, sign-in, push intake), so a service runs in the host exactly
// as it runs alone.
import path from 'node:path';
import { demoProfile, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import type { Env } from '@mailroute/platform';
import type { HostConfig, TenantConfig } from './host-config';
import { apiKeysVariable, serviceTokensVariable, type HostSecrets } from './host-secrets';
import type { ServiceName } from './host';

export interface EnvironmentInputs {
  config: HostConfig;
  secrets: HostSecrets;
  addresses: Record<ServiceName, string>;
  port: number;
  sandbox: GraphSandboxEndpoints | undefined;
  tenants: readonly TenantConfig[];
}

/** The GRPC_TLS_* variables for the `grpc.tls` configuration (the same for every service and the host's own clients). */
export function hostGrpcTls(grpc: HostConfig['grpc']) {
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
export function serviceEnvironment(name: ServiceName, inputs: EnvironmentInputs): Env {
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
        ...(kafka ? { AUTH_BROKER_KAFKA_BROKERS: kafka } : {}),
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
