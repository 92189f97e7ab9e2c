import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../errors';
import { notificationFaultSchema } from './notification-faults';
import { toSubscriptionView, type SubscriptionRegistry } from './subscription-registry';

const lifecycleSchema = z.object({ event: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']) }).strict();

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ValidationError(issue?.path.join('.') || '(body)', issue?.message ?? 'invalid');
}

/**
 * Admin API for change notifications: list subscriptions, send lifecycle events (a subscription removed by
 * the service, reauthorization required, missed notifications), notification faults, the delivery log.
 */
export function registerSubscriptionAdminRoutes(app: FastifyInstance, registry: SubscriptionRegistry): void {
  app.get<{ Querystring: { tenantId?: string } }>('/subscriptions', async (request) => ({
    value: registry.all(request.query.tenantId).map((subscription) => ({
      ...toSubscriptionView(subscription),
      tenantId: subscription.tenantId,
      mailboxId: subscription.mailboxId,
      paused: subscription.paused,
      heldNotifications: subscription.held.length,
    })),
  }));
  app.post<{ Params: { id: string } }>('/subscriptions/:id/lifecycle', async (request, reply) => {
    const { event } = parse(lifecycleSchema, request.body);
    if (!registry.all().some((subscription) => subscription.id === request.params.id))
      throw new NotFoundError('subscription', request.params.id);
    await registry.signal(request.params.id, event);
    return reply.status(202).send({ subscriptionId: request.params.id, lifecycleEvent: event });
  });
  app.get<{ Querystring: { subscriptionId?: string } }>('/notifications', async (request) => ({
    value: registry.deliveries(request.query.subscriptionId),
  }));
  app.post('/notification-faults', async (request, reply) =>
    reply.status(201).send(registry.faults.add(parse(notificationFaultSchema, request.body))),
  );
  app.get('/notification-faults', async () => ({ value: registry.faults.list() }));
  app.delete<{ Params: { id: string } }>('/notification-faults/:id', async (request, reply) => {
    if (!registry.faults.remove(request.params.id)) throw new NotFoundError('notification fault', request.params.id);
    return reply.status(204).send();
  });
  app.delete('/notification-faults', async (_request, reply) => {
    registry.faults.clear();
    return reply.status(204).send();
  });
}
