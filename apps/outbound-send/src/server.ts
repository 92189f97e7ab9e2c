import { createGrpcServer, type GrpcServer, type Logger } from '@mailroute/platform';
import { descriptorSet } from '@mailroute/contracts';

export interface ServiceDeps {
  logger: Logger;
  defaultDeadlineMs?: number;
}

/** The outbound-send gRPC server: health and reflection; the send API lands with its issue (7). */
export function createServer(deps: ServiceDeps): GrpcServer {
  return createGrpcServer({
    logger: deps.logger,
    services: [],
    descriptorSet,
    ...(deps.defaultDeadlineMs ? { defaultDeadlineMs: deps.defaultDeadlineMs } : {}),
  });
}
