import { InteractionRouterServiceDefinition } from '@mailroute/contracts';
import { createAdminContext, type AdminDeps, type AdminHandlers } from './admin/admin-context';
import { createAgentHandlers } from './admin/agents.handler';
import { createCalendarHandlers } from './admin/calendars.handler';
import { createTemplateHandlers } from './admin/templates.handler';
import { createInteractionSupervisionHandlers } from './admin/interaction-supervision.handler';
import { createInteractionHandlers } from './admin/interactions.handler';
import { createMailboxSettingsHandlers } from './admin/mailbox-settings.handler';
import { createQueueStatisticsHandlers } from './admin/queue-statistics.handler';
import { createQueueHandlers } from './admin/queues.handler';
import { createRoutingRuleHandlers } from './admin/routing-rules.handler';
import { createSenderListHandlers } from './admin/sender-lists.handler';

/**
 * Scopes of InteractionRouterService methods, one rule for every RPC of the service: reads (Get,
 * List, Search, Test…) need routing.read, changes routing.write.
 */
export const adminScopes: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(InteractionRouterServiceDefinition.methods).map(({ name }) => [
    name,
    /^(Get|List|Search|Test)/.test(name) ? 'routing.read' : 'routing.write',
  ]),
);

/**
 * InteractionRouterService: the workload-manager API, one factory per resource (handlers/admin/).
 * The tenant is always the caller's. A new RPC is a new factory (or a method of its resource's),
 * spread in here; the type checks that every RPC of the service has a handler.
 */
export function createAdminHandlers(deps: AdminDeps): AdminHandlers {
  const admin = createAdminContext(deps);
  return {
    ...createQueueHandlers(admin),
    ...createRoutingRuleHandlers(admin),
    ...createSenderListHandlers(admin),
    ...createAgentHandlers(admin),
    ...createQueueStatisticsHandlers(admin),
    ...createInteractionHandlers(admin),
    ...createInteractionSupervisionHandlers(admin),
    ...createCalendarHandlers(admin),
    ...createTemplateHandlers(admin),
    ...createMailboxSettingsHandlers(admin),
  };
}
