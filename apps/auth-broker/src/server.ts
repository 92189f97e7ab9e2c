import { AccessTokenServiceDefinition, AuthBrokerServiceDefinition, descriptorSet } from '@mailroute/contracts';
import {
  createGrpcServer,
  serveWith,
  serviceCallerMiddleware,
  workloadManagerCallerMiddleware,
  type CallerAuthenticator,
  type EntraTokenVerifier,
  type GrpcServer,
  type Logger,
} from '@mailroute/platform';
import type { AuthBrokerCore } from './auth-broker';
import { createAccessTokenHandlers } from './handlers/access-token.handler';
import { createDelegatedHandlers } from './handlers/delegated.handler';
import { createDiagnosisHandlers } from './handlers/diagnosis.handler';
import { createTenantCredentialsHandlers } from './handlers/tenant-credentials.handler';

/** API-key scopes of AuthBrokerService: reading (incl. diagnosis) and changing credentials and grants. */
const authBrokerScopes = { read: 'credentials.read', write: 'credentials.write' } as const;

/** The scope each AuthBrokerService method needs. */
const scopeByMethod: Readonly<Record<string, string>> = {
  CreateTenantCredentials: authBrokerScopes.write,
  GetTenantCredentials: authBrokerScopes.read,
  ListTenantCredentials: authBrokerScopes.read,
  UpdateTenantCredentials: authBrokerScopes.write,
  DeleteTenantCredentials: authBrokerScopes.write,
  DiagnoseTenant: authBrokerScopes.read,
  StartDelegatedSignIn: authBrokerScopes.write,
  CompleteDelegatedSignIn: authBrokerScopes.write,
  GetDelegatedGrant: authBrokerScopes.read,
  ListDelegatedGrants: authBrokerScopes.read,
  DeleteDelegatedGrant: authBrokerScopes.write,
};

export interface AuthBrokerDeps {
  logger: Logger;
  core: AuthBrokerCore;
  /** Resolves API keys and service tokens (and, in development, loopback) to caller identities. */
  authenticator: CallerAuthenticator;
  /** Supervisors' Entra ID tokens (the desktop app's, as the router accepts them). */
  supervisorVerifier: EntraTokenVerifier;
  /** The app role that grants AuthBrokerService to a signed-in user; default `Supervisor`. */
  supervisorRole?: string;
  /** Services allowed to call AccessTokenService; unset allows every mailroute service. */
  tokenCallers?: readonly string[];
  defaultDeadlineMs?: number;
}

/**
 * The auth-broker gRPC server: AuthBrokerService for workload-manager clients (API key → tenant +
 * scopes, or a supervisor's Entra token → their own tenant + credentials.read/write) and AccessTokenService for mailroute services (service token), plus health and reflection.
 */
export function createServer(deps: AuthBrokerDeps): GrpcServer {
  const { core } = deps;
  return createGrpcServer({
    logger: deps.logger,
    descriptorSet,
    ...(deps.defaultDeadlineMs ? { defaultDeadlineMs: deps.defaultDeadlineMs } : {}),
    services: [
      serveWith(
        AuthBrokerServiceDefinition,
        workloadManagerCallerMiddleware({
          authenticator: deps.authenticator,
          verifier: deps.supervisorVerifier,
          scopeByMethod,
          supervisorScopes: [authBrokerScopes.read, authBrokerScopes.write],
          ...(deps.supervisorRole ? { supervisorRole: deps.supervisorRole } : {}),
        }),
        {
          ...createTenantCredentialsHandlers(core),
          ...createDiagnosisHandlers(core),
          ...createDelegatedHandlers(core),
        },
      ),
      serveWith(
        AccessTokenServiceDefinition,
        serviceCallerMiddleware({
          authenticator: deps.authenticator,
          ...(deps.tokenCallers ? { allowedServices: deps.tokenCallers } : {}),
        }),
        createAccessTokenHandlers(core),
      ),
    ],
  });
}
