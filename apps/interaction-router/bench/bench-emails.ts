// InboundEmail events for the router's scenario benches, published at a given rate over 16
// mailboxes (so over every partition of the inbound topic), each publish time recorded.
import { randomUUID } from 'node:crypto';
import { InboundEmail } from '@mailroute/contracts';
import { eventKey, events, toEventMessage, type KafkaEventBus } from '@mailroute/messaging';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes `count` InboundEmail events over 16 mailboxes at `perSecond`, recording each publish time. */
export async function publishEmails(
  bus: KafkaEventBus,
  tenantId: string,
  count: number,
  perSecond: number,
  published: Map<string, number>,
): Promise<void> {
  const started = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < count; i += 1) {
    const interactionId = `ix-${randomUUID().slice(0, 12)}`;
    const mailboxId = `mb-${i % 16}`;
    const event = InboundEmail.fromPartial({
      eventId: randomUUID(),
      tenantId,
      interactionId,
      occurredAt: new Date(),
      mailboxId,
      mailboxAddress: `${mailboxId}@bench.test`,
      defaultQueueId: 'bench',
      message: {
        subject: `Question ${i}`,
        from: { address: `customer-${i}@customer.test`, name: `Customer ${i}` },
        conversationId: `conv-${interactionId}`,
        graphMessageId: `g-${interactionId}`,
      },
    });
    // Not awaited one by one: a slow acknowledgement must not lower the rate (enqueue time = handed to the producer).
    published.set(interactionId, performance.now());
    sends.push(bus.publish(events.inboundEmail.topic, toEventMessage('inboundEmail', eventKey(tenantId, mailboxId), event)));
    const due = started + ((i + 1) * 1000) / perSecond;
    if (due > performance.now()) await sleep(due - performance.now());
  }
  await Promise.all(sends);
}
