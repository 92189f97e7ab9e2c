import { configSchema } from './config';
import { wireInteractionRouter } from './wiring';

/**
 * interaction-router as a host runs it: its configuration schema and its composition root. `main.ts`
 * runs it as its own process; the all-in-one host (apps/mailroute) runs it beside the other services.
 */
export const interactionRouterService = { name: 'interaction-router' as const, configSchema, wire: wireInteractionRouter };
