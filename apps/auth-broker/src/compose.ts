import {
  createEntraTokenVerifier,
  type CallerAuthenticator,
  type EntraTokenVerifier,
  type GrpcServer,
  type Logger,
  type SecretBox,
} from '@mailroute/platform';
import { createAlertEventPublisher, type EventBus } from '@mailroute/messaging';
import type { Meter } from '@opentelemetry/api';
import { createAuthBrokerCore, type AuthBrokerCore, type AuthBrokerOptions } from './auth-broker';
import { createServer } from './server';
import type { AuthBrokerStores } from './store/auth-broker.stores';

/** What the auth-broker runs on; the caller creates these and closes them after `stop()`. */
export interface AuthBrokerAdapters {
  /** MongoDB tables (shared by replicas) or the embedded store (one process). */
  stores: AuthBrokerStores;
  /** Encrypts client secrets, certificates and refresh tokens at rest (the configured key ring). */
  secretBox: SecretBox;
  logger: Logger;
  /** API keys and service tokens (and, in development, loopback) → caller identities. */
  authenticator: CallerAuthenticator;
  /** Supervisors' Entra ID tokens (the desktop app's); none = every token is refused, API keys only. */
  supervisorVerifier?: EntraTokenVerifier | undefined;
  /** Where the credential metrics are registered; none = no metrics. */
  meter?: Meter | undefined;
  /** Where the credential-expiry alerts are published (mailroute.alert.v1); none = no alerts. */
  bus?: Pick<EventBus, 'publish'> | undefined;
}

/** The auth-broker's own settings (already parsed and validated); every one has a default downstream. */
export interface AuthBrokerSettings {
  /** Origins a CUSTOM cloud may use besides the national clouds' hosts (AuthBrokerCoreDeps.allowedCloudOrigins). */
  allowedCloudOrigins?: readonly string[] | undefined;
  /** Token refresh, leases, caches and scans; each default is documented on AuthBrokerOptions. */
  options?: AuthBrokerOptions | undefined;
  /** The desktop app's role that grants AuthBrokerService to a signed-in user (default `Supervisor`). */
  supervisorRole?: string | undefined;
  /** Deadline of unary calls that arrive without one (createGrpcServer's default when unset). */
  defaultDeadlineMs?: number | undefined;
}

/** The auth-broker a host runs: its gRPC server (not yet listening) and the core behind it. */
export interface ComposedAuthBroker {
  server: GrpcServer;
  core: AuthBrokerCore;
  /** Stops background work (device-code polling, refreshes, metric scans); the adapters stay open. */
  stop(): Promise<void>;
}

/**
 * The composition root of the auth-broker: everything above the adapters (the core with its token
 * providers, sign-ins, credential health and metrics, and the gRPC server). `main.ts` reaches it
 * through `wireAuthBroker` (config → adapters).
 */
export function composeAuthBroker(adapters: AuthBrokerAdapters, settings: AuthBrokerSettings = {}): ComposedAuthBroker {
  const { logger } = adapters;
  const core = createAuthBrokerCore({
    stores: adapters.stores,
    secretBox: adapters.secretBox,
    logger,
    ...(adapters.meter ? { meter: adapters.meter } : {}),
    allowedCloudOrigins: settings.allowedCloudOrigins ?? [],
    ...(adapters.bus ? { publishAlert: createAlertEventPublisher(adapters.bus) } : {}),
    ...(settings.options ? { options: settings.options } : {}),
  });
  const server = createServer({
    logger,
    core,
    authenticator: adapters.authenticator,
    supervisorVerifier: adapters.supervisorVerifier ?? createEntraTokenVerifier({ directories: new Map(), audience: [] }),
    ...(settings.supervisorRole ? { supervisorRole: settings.supervisorRole } : {}),
    ...(settings.defaultDeadlineMs ? { defaultDeadlineMs: settings.defaultDeadlineMs } : {}),
  });
  return { server, core, stop: () => core.close() };
}
