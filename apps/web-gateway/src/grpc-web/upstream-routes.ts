import { Client, credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { createChannel } from 'nice-grpc';

/** How a method streams, from its descriptor. */
export type MethodKind = 'unary' | 'server-stream' | 'client-stream' | 'bidi-stream';

/** A ts-proto generic service definition, as @mailroute/contracts generates them (only what routing needs). */
export interface BridgedServiceDefinition {
  fullName: string;
  methods: Record<string, { name: string; requestStream: boolean; responseStream: boolean }>;
}

/** One bridged method: its HTTP path, how it streams and the upstream that serves it. */
export interface UpstreamRoute {
  /** `/<package>.<Service>/<Method>`, the same path gRPC uses on HTTP/2. */
  path: string;
  service: string;
  method: string;
  kind: MethodKind;
  upstream: Client;
}

export interface UpstreamRoutes {
  get(path: string): UpstreamRoute | undefined;
  /** Every route, for logs and tests. */
  all(): readonly UpstreamRoute[];
  close(): void;
}

/**
 * The routing table of the bridge, built from the services' descriptors: every method of every
 * service listed, sent to the `host:port` its service is served on. Calls go through raw-bytes
 * clients (no decoding: the browser's encoded message is forwarded as it came), one HTTP/2 channel
 * per upstream address, over TLS when `credentials` say so (grpcClientCredentials).
 */
export function createUpstreamRoutes(
  upstreams: readonly { address: string; services: readonly BridgedServiceDefinition[] }[],
  credentials: ChannelCredentials = grpcCredentials.createInsecure(),
): UpstreamRoutes {
  const routes = new Map<string, UpstreamRoute>();
  const clients: Client[] = [];
  for (const { address, services } of upstreams) {
    // nice-grpc's channel (grpc-js underneath) is the one the other services' clients use too.
    const upstream = new Client(address, credentials, { channelOverride: createChannel(address, credentials) });
    clients.push(upstream);
    for (const service of services) {
      for (const method of Object.values(service.methods)) {
        const path = `/${service.fullName}/${method.name}`;
        routes.set(path, { path, service: service.fullName, method: method.name, kind: toMethodKind(method), upstream });
      }
    }
  }
  return {
    get: (path) => routes.get(path),
    all: () => [...routes.values()],
    close: () => clients.forEach((client) => client.close()),
  };
}

function toMethodKind(method: { requestStream: boolean; responseStream: boolean }): MethodKind {
  if (method.requestStream) return method.responseStream ? 'bidi-stream' : 'client-stream';
  return method.responseStream ? 'server-stream' : 'unary';
}

/** Serializers of a raw-bytes client: the gateway forwards encoded messages untouched. */
export const passThrough = {
  serialize: (message: Buffer): Buffer => message,
  deserialize: (bytes: Buffer): Buffer => bytes,
};
