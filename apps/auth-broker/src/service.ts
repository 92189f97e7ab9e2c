import type { Logger, ServiceParts } from '@mailroute/platform';
import { configSchema, type AuthBrokerConfig } from './config';
import { wireAuthBroker } from './wiring';

/**
 * auth-broker as a host runs it: its configuration schema and its composition root. `main.ts` runs
 * it as its own process; the all-in-one host (apps/mailroute) runs it beside the other services.
 * auth-broker uses no event bus, so it ignores the shared adapters.
 */
export const authBrokerService = {
  name: 'auth-broker' as const,
  configSchema,
  wire: (config: AuthBrokerConfig, logger: Logger, _adapters: object = {}): Promise<ServiceParts> =>
    wireAuthBroker(config, logger),
};
