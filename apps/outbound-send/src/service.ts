import { configSchema } from './config';
import { wireOutboundSend } from './wiring';

/**
 * outbound-send as a host runs it: its configuration schema and its composition root. `main.ts`
 * runs it as its own process; the all-in-one host (apps/mailroute) runs it beside the other
 * services on a shared bus.
 */
export const outboundSendService = { name: 'outbound-send' as const, configSchema, wire: wireOutboundSend };
