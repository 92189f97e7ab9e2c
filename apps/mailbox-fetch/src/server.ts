import { createGrpcServer, type GrpcServer, type Logger } from '@mailroute/platform';
import { descriptorSet } from '@mailroute/contracts';

export interface ServiceDeps {
  logger: Logger;
  defaultDeadlineMs?: number;
}

/** The mailbox-fetch gRPC server: health and reflection; the mailbox API lands with its issue (5). */
export function createServer(deps: ServiceDeps): GrpcServer {
  return createGrpcServer({
    logger: deps.logger,
    services: [],
    descriptorSet,
    ...(deps.defaultDeadlineMs ? { defaultDeadlineMs: deps.defaultDeadlineMs } : {}),
  });
}
