import type { CallerAuthenticator, GrpcServer } from '@mailroute/platform';
import { createOutboundSend, type OutboundSend, type OutboundSendAdapters, type OutboundSendOptions } from './outbound-send';
import { createServer } from './server';

/** What outbound-send runs on; the caller creates these and closes them after `stop()`. */
export interface OutboundSendServiceAdapters extends Omit<OutboundSendAdapters, 'replicaId' | 'options'> {
  /** Workload-manager callers (API keys). */
  authenticator: CallerAuthenticator;
}

/** outbound-send's own settings (already parsed and validated). */
export interface OutboundSendSettings {
  /** Unique per process: names the attempt markers' owner and the heartbeat row. */
  replicaId: string;
  /** Consumers, Graph limits, send rate, uploads, the send engine; each default is documented on OutboundSendOptions. */
  options?: OutboundSendOptions | undefined;
  /** Deadline of unary calls that arrive without one (createGrpcServer's default when unset). */
  defaultDeadlineMs?: number | undefined;
}

/** outbound-send as a host runs it: its gRPC server (not yet listening) and the service behind it. */
export interface ComposedOutboundSend {
  server: GrpcServer;
  service: OutboundSend;
  /** Starts the consumers, the due-send timer, heartbeats and the upload sweeper. */
  start(): Promise<void>;
  /** Stops them (after the gRPC server); the adapters stay open. */
  stop(): Promise<void>;
}

/**
 * The composition root of outbound-send: everything above the adapters (the service — Graph clients,
 * send engine, consumers, handlers — and the gRPC server). `main.ts` reaches it through
 * `wireOutboundSend` (config → adapters).
 */
export function composeOutboundSend(adapters: OutboundSendServiceAdapters, settings: OutboundSendSettings): ComposedOutboundSend {
  const { authenticator, ...serviceAdapters } = adapters;
  const service = createOutboundSend({
    ...serviceAdapters,
    replicaId: settings.replicaId,
    ...(settings.options ? { options: settings.options } : {}),
  });
  const server = createServer({
    logger: adapters.logger,
    service,
    authenticator,
    ...(settings.defaultDeadlineMs ? { defaultDeadlineMs: settings.defaultDeadlineMs } : {}),
  });
  return { server, service, start: () => service.start(), stop: () => service.stop() };
}
