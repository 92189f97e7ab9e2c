import {
  AgentDesktopServiceDefinition,
  AuthBrokerServiceDefinition,
  InteractionRouterServiceDefinition,
  MailboxFetchServiceDefinition,
  type GetInteractionAttachmentRequest,
  type GetInteractionAttachmentResponse,
} from '@mailroute/contracts';
import { credentials } from '@grpc/grpc-js';
import { createGrpcClient, errorTrailers, type GrpcClientHandle } from '@mailroute/platform';
import type { CompatServiceDefinition } from 'nice-grpc';
import { ClientError, Metadata } from 'nice-grpc-common';
import { CallFailedError, CliError, type ErrorTrailers } from './errors';
import type { CliSettings } from './settings';

/** The unary methods of a nice-grpc client, called with just the request. */
type UnaryApi<Client> = {
  [Method in keyof Client]: Client[Method] extends (request: infer Request, ...rest: never[]) => Promise<infer Response>
    ? (request: Request) => Promise<Response>
    : never;
};

type ClientOf<Service extends CompatServiceDefinition> = GrpcClientHandle<Service>['client'];

/**
 * The public gRPC APIs the CLI calls, created on first use with the platform's client helper
 * (trace propagation, a deadline per call). Every call carries the bearer credential and, when it
 * fails, becomes a CallFailedError with the service, the address and the error trailers.
 */
export class ServiceClients {
  private readonly handles: GrpcClientHandle<CompatServiceDefinition>[] = [];

  constructor(private readonly settings: CliSettings) {}

  /** auth-broker's AuthBrokerService (tenant credentials, diagnosis, delegated sign-in). */
  authBroker(): UnaryApi<ClientOf<typeof AuthBrokerServiceDefinition>> {
    return this.unary('auth-broker', AuthBrokerServiceDefinition, this.settings.authBroker, this.apiKey());
  }

  /** mailbox-fetch's MailboxFetchService (mailboxes, sync status, access diagnosis). */
  mailboxFetch(): UnaryApi<ClientOf<typeof MailboxFetchServiceDefinition>> {
    return this.unary('mailbox-fetch', MailboxFetchServiceDefinition, this.settings.mailboxFetch, this.apiKey());
  }

  /** interaction-router's InteractionRouterService (queues, rules, agents, statistics, search). */
  router(): UnaryApi<ClientOf<typeof InteractionRouterServiceDefinition>> {
    return this.unary('interaction-router', InteractionRouterServiceDefinition, this.settings.router, this.apiKey());
  }

  /**
   * InteractionRouterService.GetInteractionAttachment with the API key (routing.read): the attachment's info, then its
   * content in chunks, as they arrive; a failure becomes a CallFailedError like a unary call's.
   */
  async *interactionAttachment(request: GetInteractionAttachmentRequest): AsyncIterable<GetInteractionAttachmentResponse> {
    const service = 'interaction-router';
    const address = this.settings.router;
    const key = this.apiKey();
    const client = this.open(InteractionRouterServiceDefinition, address).client;
    let trailers: Metadata | undefined;
    try {
      yield* client.getInteractionAttachment(request, {
        metadata: Metadata({ authorization: `Bearer ${key()}` }),
        onTrailer: (metadata: Metadata) => {
          trailers = metadata;
        },
      });
    } catch (error) {
      throw toCallFailed(service, address, error, trailers);
    }
  }

  /** interaction-router's AgentDesktopService for a signed-in agent: unary actions, and the raw client for the stream. */
  desktop(idToken: () => string): {
    api: UnaryApi<ClientOf<typeof AgentDesktopServiceDefinition>>;
    client: ClientOf<typeof AgentDesktopServiceDefinition>;
    metadata: () => Metadata;
    fail: (error: unknown, trailers?: Metadata) => unknown;
  } {
    const service = 'interaction-router (agent desktop)';
    const handle = this.open(AgentDesktopServiceDefinition, this.settings.router);
    return {
      api: wrapUnary(service, this.settings.router, handle.client, idToken),
      client: handle.client,
      metadata: () => Metadata({ authorization: `Bearer ${idToken()}` }),
      fail: (error, trailers) => toCallFailed(service, this.settings.router, error, trailers),
    };
  }

  /** Closes every channel. */
  close(): void {
    for (const handle of this.handles.splice(0)) handle.close();
  }

  private apiKey(): () => string {
    const key = this.settings.apiKey;
    if (!key) throw new CliError('no API key: pass --api-key or set MAILROUTE_API_KEY (see docs/cli.md, "API keys")');
    return () => key;
  }

  private open<Service extends CompatServiceDefinition>(definition: Service, address: string): GrpcClientHandle<Service> {
    // The CLI lives for one command: the files are read once (resolveSettings), not watched like a service's.
    const tls = this.settings.tls;
    const handle = createGrpcClient(definition, address, {
      deadlineMs: this.settings.timeoutMs,
      ...(tls ? { credentials: credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null) } : {}),
    });
    this.handles.push(handle as unknown as GrpcClientHandle<CompatServiceDefinition>);
    return handle;
  }

  private unary<Service extends CompatServiceDefinition>(
    name: string,
    definition: Service,
    address: string,
    credential: () => string,
  ): UnaryApi<ClientOf<Service>> {
    return wrapUnary(name, address, this.open(definition, address).client, credential);
  }
}

function wrapUnary<Client extends object>(
  service: string,
  address: string,
  client: Client,
  credential: () => string,
): UnaryApi<Client> {
  return new Proxy(client, {
    get(target, property) {
      const method = Reflect.get(target, property) as unknown;
      if (typeof method !== 'function') return method;
      return async (request: unknown) => {
        let trailers: Metadata | undefined;
        try {
          return await (method as (request: unknown, options: object) => Promise<unknown>).call(target, request, {
            metadata: Metadata({ authorization: `Bearer ${credential()}` }),
            onTrailer: (metadata: Metadata) => {
              trailers = metadata;
            },
          });
        } catch (error) {
          throw toCallFailed(service, address, error, trailers);
        }
      };
    },
  }) as unknown as UnaryApi<Client>;
}

function toCallFailed(service: string, address: string, error: unknown, trailers: Metadata | undefined): unknown {
  if (!(error instanceof ClientError)) return error;
  const found: ErrorTrailers = {};
  const code = trailers?.get(errorTrailers.reason);
  const retry = trailers?.get(errorTrailers.retryAfterMs);
  if (code !== undefined) found.errorCode = String(code);
  if (retry !== undefined) found.retryAfterMs = String(retry);
  return new CallFailedError(service, address, error, found);
}
