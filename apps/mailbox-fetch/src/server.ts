import { descriptorSet, MailboxFetchServiceDefinition } from '@mailroute/contracts';
import {
  createGrpcServer,
  serveWith,
  workloadManagerCallerMiddleware,
  type CallerAuthenticator,
  type EntraTokenVerifier,
  type GrpcServer,
  type Logger,
} from '@mailroute/platform';
import type { MailboxDiagnosis } from './diagnosis/mailbox-diagnosis';
import { createMailboxFetchHandlers } from './handlers/mailbox-fetch.handler';
import type { MailboxFetchCore } from './mailbox-fetch';

/** API-key scopes of MailboxFetchService. */
const mailboxFetchScopes = { read: 'mailboxes.read', write: 'mailboxes.write' } as const;

/** The scope each MailboxFetchService method needs. */
const scopeByMethod: Readonly<Record<string, string>> = {
  CreateMailbox: mailboxFetchScopes.write,
  GetMailbox: mailboxFetchScopes.read,
  ListMailboxes: mailboxFetchScopes.read,
  UpdateMailbox: mailboxFetchScopes.write,
  DeleteMailbox: mailboxFetchScopes.write,
  SyncNow: mailboxFetchScopes.write,
  GetSyncStatus: mailboxFetchScopes.read,
  ListSyncStatuses: mailboxFetchScopes.read,
  DiagnoseMailboxAccess: mailboxFetchScopes.read,
};

export interface ServiceDeps {
  logger: Logger;
  core: MailboxFetchCore;
  diagnosis: MailboxDiagnosis;
  authenticator: CallerAuthenticator;
  /** Supervisors' Entra ID tokens (the desktop app's, as the router accepts them). */
  supervisorVerifier: EntraTokenVerifier;
  /** The app role that grants the API to a signed-in user; default `Supervisor`. */
  supervisorRole?: string;
  defaultDeadlineMs?: number;
}

/**
 * The mailbox-fetch gRPC server: MailboxFetchService (tenant from the caller's API key, or from the Entra
 * token of a supervisor, whose role grants mailboxes.read + mailboxes.write in their own tenant), health,
 * reflection.
 */
export function createServer(deps: ServiceDeps): GrpcServer {
  return createGrpcServer({
    logger: deps.logger,
    descriptorSet,
    ...(deps.defaultDeadlineMs ? { defaultDeadlineMs: deps.defaultDeadlineMs } : {}),
    services: [
      serveWith(
        MailboxFetchServiceDefinition,
        workloadManagerCallerMiddleware({
          authenticator: deps.authenticator,
          verifier: deps.supervisorVerifier,
          scopeByMethod,
          supervisorScopes: [mailboxFetchScopes.read, mailboxFetchScopes.write],
          ...(deps.supervisorRole ? { supervisorRole: deps.supervisorRole } : {}),
        }),
        createMailboxFetchHandlers(deps.core, deps.diagnosis),
      ),
    ],
  });
}
