import type { ChannelCredentials } from '@grpc/grpc-js';
import { createChannel, createClientFactory, type Channel, type Client, type CompatServiceDefinition } from 'nice-grpc';
import { deadlineMiddleware } from 'nice-grpc-client-middleware-deadline';
import { openTelemetryClientMiddleware } from 'nice-grpc-opentelemetry';

export interface GrpcClientOptions {
  /** Deadline for each call unless the caller passes one. Default 10 s. */
  deadlineMs?: number;
  /** TLS to the service (grpcClientCredentials). Default plaintext, for loopback. */
  credentials?: ChannelCredentials;
}

export interface GrpcClientHandle<Service extends CompatServiceDefinition> {
  client: Client<Service, { deadline?: Date | number }>;
  channel: Channel;
  close(): void;
}

/**
 * A client for one mailroute service at `address` (`host:port`), with trace-context propagation and
 * a default deadline on every call.
 */
export function createGrpcClient<Service extends CompatServiceDefinition>(
  definition: Service,
  address: string,
  options: GrpcClientOptions = {},
): GrpcClientHandle<Service> {
  const channel = createChannel(address, options.credentials);
  const deadlineMs = options.deadlineMs ?? 10_000;
  const client = createClientFactory()
    .use(openTelemetryClientMiddleware())
    .use(deadlineMiddleware)
    .create(definition, channel, { '*': { deadline: deadlineMs } }) as unknown as Client<Service, { deadline?: Date | number }>;
  return { client, channel, close: () => channel.close() };
}
