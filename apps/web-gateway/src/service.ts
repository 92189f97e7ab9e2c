import { configSchema } from './config';
import { wireWebGateway } from './wiring';

/**
 * The web gateway as a host runs it: its configuration schema and its composition root. `main.ts`
 * runs it as its own process; the all-in-one host (apps/mailroute) runs it beside the services.
 */
export const webGatewayService = { name: 'web-gateway' as const, configSchema, wire: wireWebGateway };
