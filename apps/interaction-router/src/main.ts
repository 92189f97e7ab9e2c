import { runService } from '@mailroute/platform';
import { configSchema } from './config';
import { createServer } from './server';

void runService({
  name: 'interaction-router',
  configSchema,
  wire: async (config, logger) => ({
    server: createServer({ logger, defaultDeadlineMs: config.GRPC_DEFAULT_DEADLINE_MS }),
  }),
});
