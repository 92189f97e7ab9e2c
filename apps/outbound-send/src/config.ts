import { env } from '@mailroute/platform';
import { z } from 'zod';

/** outbound-send's own variables (the common ones — GRPC_HOST, LOG_LEVEL, … — are merged in). */
export const configSchema = z.object({
  GRPC_PORT: env.port(50054),
});
