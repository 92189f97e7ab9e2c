import { descriptorSet, MailboxFetchServiceDefinition } from '@mailroute/contracts';
import {
  createGrpcServer,
  serveWith,
  tenantCallerMiddleware,
  type CallerAuthenticator,
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
  defaultDeadlineMs?: number;
}

/** The mailbox-fetch gRPC server: MailboxFetchService (tenant from the caller's API key), health, reflection. */
export function createServer(deps: ServiceDeps): GrpcServer {
  return createGrpcServer({
    logger: deps.logger,
    descriptorSet,
    ...(deps.defaultDeadlineMs ? { defaultDeadlineMs: deps.defaultDeadlineMs } : {}),
    services: [
      serveWith(
        MailboxFetchServiceDefinition,
        tenantCallerMiddleware({ authenticator: deps.authenticator, scopeByMethod }),
        createMailboxFetchHandlers(deps.core, deps.diagnosis),
      ),
    ],
  });
}
