import { descriptorSet, OutboundSendServiceDefinition } from '@mailroute/contracts';
import {
  createGrpcServer,
  serveWith,
  tenantCallerMiddleware,
  type CallerAuthenticator,
  type GrpcServer,
  type Logger,
} from '@mailroute/platform';
import { scopeByMethod } from './handlers/outbound-send.handler';
import type { OutboundSend } from './outbound-send';

export interface ServiceDeps {
  logger: Logger;
  service: Pick<OutboundSend, 'handlers'>;
  authenticator: CallerAuthenticator;
  defaultDeadlineMs?: number;
}

/** The outbound-send gRPC server: OutboundSendService (tenant from the caller's API key), health, reflection. */
export function createServer(deps: ServiceDeps): GrpcServer {
  return createGrpcServer({
    logger: deps.logger,
    descriptorSet,
    ...(deps.defaultDeadlineMs ? { defaultDeadlineMs: deps.defaultDeadlineMs } : {}),
    services: [
      serveWith(
        OutboundSendServiceDefinition,
        tenantCallerMiddleware({ authenticator: deps.authenticator, scopeByMethod }),
        deps.service.handlers,
      ),
    ],
  });
}
