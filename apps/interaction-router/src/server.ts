import { createGrpcServer, type GrpcServer, type Logger } from '@mailroute/platform';
import { descriptorSet } from '@mailroute/contracts';

export interface ServiceDeps {
  logger: Logger;
  defaultDeadlineMs?: number;
}

/** The interaction-router gRPC server: health and reflection; routing and desktop APIs land with issue 6. */
export function createServer(deps: ServiceDeps): GrpcServer {
  return createGrpcServer({
    logger: deps.logger,
    services: [],
    descriptorSet,
    ...(deps.defaultDeadlineMs ? { defaultDeadlineMs: deps.defaultDeadlineMs } : {}),
  });
}
