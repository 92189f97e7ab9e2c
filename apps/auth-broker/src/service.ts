import type { Logger, ServiceParts } from '@mailroute/platform';
import { configSchema, type AuthBrokerConfig } from './config';
import { wireAuthBroker, type SharedAdapters } from './wiring';

/**
 * auth-broker as a host runs it: its configuration schema and its composition root. `main.ts` runs
 * it as its own process; the all-in-one host (apps/mailroute) runs it beside the other services.
 * The host's shared bus (the embedded default's) carries its credential-expiry alerts.
 */
export const authBrokerService = {
  name: 'auth-broker' as const,
  configSchema,
  wire: (config: AuthBrokerConfig, logger: Logger, adapters: SharedAdapters = {}): Promise<ServiceParts> =>
    wireAuthBroker(config, logger, adapters),
};
