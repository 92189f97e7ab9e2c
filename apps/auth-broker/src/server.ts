import { createGrpcServer, type GrpcServer, type Logger } from '@mailroute/platform';
import { descriptorSet } from '@mailroute/contracts';

export interface AuthBrokerDeps {
  logger: Logger;
  defaultDeadlineMs?: number;
}

/** The auth-broker gRPC server: health and reflection; the broker API lands with its issue (4). */
export function createServer(deps: AuthBrokerDeps): GrpcServer {
  return createGrpcServer({
    logger: deps.logger,
    services: [],
    descriptorSet,
    ...(deps.defaultDeadlineMs ? { defaultDeadlineMs: deps.defaultDeadlineMs } : {}),
  });
}
