import { runService } from '@mailroute/platform';
import { configSchema } from './config';

// runService starts OpenTelemetry before it calls `wire`; the wiring (MongoDB driver, kafkajs, MSAL,
// the Graph client) is imported only then, so the instrumentations patch those modules as they load.
void runService({
  name: 'interaction-router',
  configSchema,
  wire: async (config, logger) => (await import('./wiring.js')).wireInteractionRouter(config, logger),
});
