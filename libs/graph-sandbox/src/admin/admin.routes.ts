import type { FastifyInstance } from 'fastify';
import type { GrantStore } from '../entra/grant-store';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../errors';
import type { SandboxContext } from '../shared/sandbox-context';
import { faultRuleSchema } from '../throttling/fault-injector';
import { seedDemoProfile } from './demo-profile';
import type { SandboxEndpoints } from './admin-request';
import { registerAppRbacAdminRoutes } from './app-rbac-admin.routes';
import { registerMailboxAdminRoutes } from './mailbox-admin.routes';
import { registerMailboxPermissionAdminRoutes } from './mailbox-permission-admin.routes';
import { registerTenantAdminRoutes } from './tenant-admin.routes';

export type { SandboxEndpoints } from './admin-request';

/**
 * The control API (plain HTTP, loopback only): health, info, reset, the demo profile and faults here; tenants, apps,
 * credentials, consent, policies (tenant-admin.routes.ts) and mailboxes and mail (mailbox-admin.routes.ts).
 */
export function registerAdminRoutes(
  app: FastifyInstance,
  context: SandboxContext,
  grants: GrantStore,
  endpoints: () => SandboxEndpoints,
): void {
  const { state, clock } = context;
  const deps = { app, context, grants, endpoints };

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ValidationError)
      return reply.status(400).send({ error: { code: error.code, message: error.message, field: error.field } });
    if (error instanceof NotFoundError) return reply.status(404).send({ error: { code: error.code, message: error.message } });
    if (error instanceof AlreadyExistsError)
      return reply.status(409).send({ error: { code: error.code, message: error.message } });
    if ((error as { statusCode?: number }).statusCode === 400)
      return reply.status(400).send({ error: { code: 'INVALID_ARGUMENT', message: (error as Error).message } });
    context.logger.error({ err: error, url: request.url }, 'graph-sandbox: admin handler failed');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error (see the sandbox log)' } });
  });

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/info', async () => ({
    ...endpoints(),
    graphBaseUrl: `${endpoints().baseUrl}/`,
    authorityHost: new URL(endpoints().baseUrl).host,
  }));
  app.post('/reset', async (_request, reply) => {
    state.reset();
    grants.reset();
    context.faults.clear();
    context.limiter.reset();
    return reply.status(204).send();
  });
  app.post('/profiles/demo', async () =>
    seedDemoProfile(state, clock(), endpoints().baseUrl, {
      ...(context.settings.consoleRedirectUris ? { consoleRedirectUris: context.settings.consoleRedirectUris } : {}),
    }),
  );

  registerTenantAdminRoutes(deps);
  registerMailboxAdminRoutes(deps);
  registerMailboxPermissionAdminRoutes(deps);
  registerAppRbacAdminRoutes(deps);

  app.post('/faults', async (request, reply) => {
    const result = faultRuleSchema.safeParse(request.body ?? {});
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new ValidationError(issue?.path.join('.') || '(body)', issue?.message ?? 'invalid');
    }
    return reply.status(201).send(context.faults.add(result.data));
  });
  app.get('/faults', async () => ({ value: context.faults.list() }));
  app.delete<{ Params: { id: string } }>('/faults/:id', async (request, reply) => {
    if (!context.faults.remove(request.params.id)) throw new NotFoundError('fault', request.params.id);
    return reply.status(204).send();
  });
  app.delete('/faults', async (_request, reply) => {
    context.faults.clear();
    return reply.status(204).send();
  });
}
