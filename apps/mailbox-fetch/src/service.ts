import { configSchema } from './config';
import { wireMailboxFetch } from './wiring';

/**
 * mailbox-fetch as a host runs it: its configuration schema and its composition root. `main.ts`
 * runs it as its own process; the all-in-one host (apps/mailroute) runs it beside the other
 * services on a shared bus.
 */
export const mailboxFetchService = { name: 'mailbox-fetch' as const, configSchema, wire: wireMailboxFetch };
