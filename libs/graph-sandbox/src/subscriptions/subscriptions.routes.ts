import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateGraphRequest } from '../authz/access-token';
import { appMailboxDenial, mailboxUnavailable } from '../authz/mailbox-authorization';
import { hasMailPermission } from '../authz/permissions';
import { GraphApiError } from '../errors';
import { graphErrorHandler, graphJsonContentType } from '../graph/graph-error-handler';
import { graphErrors } from '../graph/graph-errors';
import { newGuid } from '../shared/ids';
import type { SandboxContext } from '../shared/sandbox-context';
import { toSubscriptionView, type SubscriptionCaller, type SubscriptionRegistry } from './subscription-registry';

/**
 * Graph's `/v1.0/subscriptions` for Outlook messages: create (with the validation handshake), list, get,
 * renew (PATCH), delete and reauthorize. https://learn.microsoft.com/graph/api/resources/subscription
 */
export function registerSubscriptionRoutes(app: FastifyInstance, context: SandboxContext, registry: SubscriptionRegistry): void {
  const callerOf = async (request: FastifyRequest, reply: FastifyReply, endpoint: string): Promise<SubscriptionCaller> => {
    const requestId = newGuid();
    void reply
      .header('request-id', requestId)
      .header('client-request-id', (request.headers['client-request-id'] as string | undefined) ?? requestId);
    const caller = await authenticateGraphRequest(request.headers.authorization, {
      state: context.state,
      verifyKey: context.issuer.verifyKey,
      clock: context.clock,
      baseUrl: context.baseUrl(),
    });
    const stats = caller.tenant.stats;
    stats.graphRequests += 1;
    stats.graphRequestsByEndpoint[endpoint] = (stats.graphRequestsByEndpoint[endpoint] ?? 0) + 1;
    return {
      tenant: caller.tenant,
      appId: caller.appId,
      ...(caller.userId ? { userId: caller.userId } : {}),
      // App-only: RBAC for Applications grants are not in the token, so access is decided per mailbox.
      canRead: caller.kind === 'app' || hasMailPermission(caller.permissions, 'read'),
      authorizeMailbox(mailbox) {
        const unavailable = mailboxUnavailable(caller, mailbox);
        if (unavailable) throw unavailable;
        if (caller.kind === 'user' && mailbox.id !== caller.userId) throw graphErrors.accessDenied();
        const denial = caller.kind === 'app' ? appMailboxDenial(caller, mailbox, 'read') : undefined;
        if (denial)
          throw new GraphApiError({
            status: 403,
            code: 'ExtensionError',
            message: `Operation: Create; Exception: [Status Code: Forbidden; Reason: ${denial.message}]`,
          });
      },
    };
  };
  const json = (reply: FastifyReply, status: number, body: unknown) => reply.status(status).type(graphJsonContentType).send(body);
  const context$ = () => `${context.baseUrl()}/v1.0/$metadata#subscriptions`;
  const immutableIds = (request: FastifyRequest) => /idtype\s*=\s*"?immutableid"?/i.test(String(request.headers.prefer ?? ''));

  void app.register(async (scope) => {
    scope.setErrorHandler(graphErrorHandler(context));
    scope.post('/v1.0/subscriptions', async (request, reply) => {
      const caller = await callerOf(request, reply, 'subscriptions.create');
      const subscription = await registry.create(caller, request.body, immutableIds(request));
      return json(reply, 201, { '@odata.context': `${context$()}/$entity`, ...toSubscriptionView(subscription) });
    });
    scope.get('/v1.0/subscriptions', async (request, reply) => {
      const caller = await callerOf(request, reply, 'subscriptions.list');
      return json(reply, 200, { '@odata.context': context$(), value: registry.list(caller).map(toSubscriptionView) });
    });
    scope.get<{ Params: { id: string } }>('/v1.0/subscriptions/:id', async (request, reply) => {
      const caller = await callerOf(request, reply, 'subscriptions.get');
      return json(reply, 200, {
        '@odata.context': `${context$()}/$entity`,
        ...toSubscriptionView(registry.get(caller, request.params.id)),
      });
    });
    scope.patch<{ Params: { id: string } }>('/v1.0/subscriptions/:id', async (request, reply) => {
      const caller = await callerOf(request, reply, 'subscriptions.update');
      const subscription = await registry.update(caller, request.params.id, request.body);
      return json(reply, 200, { '@odata.context': `${context$()}/$entity`, ...toSubscriptionView(subscription) });
    });
    scope.delete<{ Params: { id: string } }>('/v1.0/subscriptions/:id', async (request, reply) => {
      const caller = await callerOf(request, reply, 'subscriptions.delete');
      registry.remove(caller, request.params.id);
      return reply.status(204).send();
    });
    scope.post<{ Params: { id: string } }>('/v1.0/subscriptions/:id/reauthorize', async (request, reply) => {
      const caller = await callerOf(request, reply, 'subscriptions.reauthorize');
      registry.reauthorize(caller, request.params.id);
      return reply.status(204).send();
    });
  });
}
