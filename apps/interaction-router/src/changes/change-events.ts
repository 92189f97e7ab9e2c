import { randomUUID } from 'node:crypto';
import { context as otelContext, trace } from '@opentelemetry/api';
import type { InteractionStateChanged } from '@mailroute/contracts';
import { eventKey, events, toEventMessage, type EventBus } from '@mailroute/messaging';
import { contextFromStored } from '@mailroute/platform';
import type { InteractionHistoryRecord } from '@mailroute/persistence';
import { toInteraction } from '../routing/interaction-mapping';

/** The InteractionStateChanged event of a committed change (a fresh event id per publication). */
export function toStateChangedEvent(entry: InteractionHistoryRecord): InteractionStateChanged {
  return {
    eventId: randomUUID(),
    tenantId: entry.tenantId,
    occurredAt: new Date(entry.occurredAt),
    interactionId: entry.interactionId,
    version: entry.version,
    previousState: entry.previousState,
    state: entry.state,
    reason: entry.reason,
    actor: entry.actor,
    queueId: entry.queueId,
    agentId: entry.agentId,
    interaction: toInteraction(entry.interaction),
  };
}

/** Publishes committed changes as InteractionStateChanged (key: tenant/interaction). */
export function createChangePublisher(bus: EventBus) {
  return async function publishChange(entry: InteractionHistoryRecord): Promise<void> {
    const interaction = entry.interaction;
    // A change made outside any span (planning, the offer sweep, the relay) joins the e-mail's trace
    // (the intake's context stored on the interaction), so an offer and its delivery to a desktop
    // are found under the e-mail; within a call or a consumer, the change stays in that span.
    const active = otelContext.active();
    const parent =
      trace.getSpan(active) === undefined && interaction.traceContext ? contextFromStored(interaction.traceContext) : active;
    await otelContext.with(parent, () =>
      bus.publish(
        events.interactionStateChanged.topic,
        toEventMessage('interactionStateChanged', eventKey(entry.tenantId, entry.interactionId), toStateChangedEvent(entry)),
      ),
    );
  };
}

export type PublishChange = ReturnType<typeof createChangePublisher>;
