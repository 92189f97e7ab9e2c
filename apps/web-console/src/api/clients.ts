// The console's gRPC-web clients: nice-grpc-web on the ts-proto definitions of @mailroute/contracts
// (the same proto/ the services serve), through the web gateway. Every call carries the signed-in
// user's ID token; the gateway passes it on and the router verifies it.
import {
  AgentDesktopServiceDefinition,
  AuthBrokerServiceDefinition,
  InteractionRouterServiceDefinition,
  MailboxFetchServiceDefinition,
  type AgentDesktopServiceClient,
  type AuthBrokerServiceClient,
  type InteractionRouterServiceClient,
  type MailboxFetchServiceClient,
  type UploadedAttachment,
} from '@mailroute/contracts';
import { createChannel, createClientFactory, Metadata, type ClientMiddleware } from 'nice-grpc-web';
import { uploadAttachment } from './attachments';

/** The clients of the APIs the console uses. */
export interface ConsoleClients {
  /** The agent's own API (AgentDesktopService). */
  desktop: AgentDesktopServiceClient;
  /** The workload-manager API (InteractionRouterService), for supervisors. */
  router: InteractionRouterServiceClient;
  /** Mailboxes and their sync status (MailboxFetchService), for supervisors. */
  mailboxes: MailboxFetchServiceClient;
  /** Tenant credentials' state (AuthBrokerService), for supervisors. */
  credentials: AuthBrokerServiceClient;
  /** Uploads a file templates can attach (`POST <apiUrl>/uploads/template-attachments`, for supervisors). */
  uploadTemplateAttachment(file: File): Promise<UploadedAttachment>;
}

/** Adds `authorization: Bearer <ID token>` to every call, asking for a fresh token each time. */
function bearerMiddleware(idToken: () => Promise<string>): ClientMiddleware {
  return async function* bearer(call, options) {
    const metadata = Metadata(options.metadata);
    metadata.set('authorization', `Bearer ${await idToken()}`);
    return yield* call.next(call.request, { ...options, metadata });
  };
}

/** Creates the clients for the gateway at apiUrl. */
export function createConsoleClients(apiUrl: string, idToken: () => Promise<string>): ConsoleClients {
  const channel = createChannel(apiUrl);
  const factory = createClientFactory().use(bearerMiddleware(idToken));
  return {
    desktop: factory.create(AgentDesktopServiceDefinition, channel),
    router: factory.create(InteractionRouterServiceDefinition, channel),
    mailboxes: factory.create(MailboxFetchServiceDefinition, channel),
    credentials: factory.create(AuthBrokerServiceDefinition, channel),
    uploadTemplateAttachment: async (file) => uploadAttachment(`${apiUrl}/uploads/template-attachments`, await idToken(), file),
  };
}
