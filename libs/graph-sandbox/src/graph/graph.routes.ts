import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateGraphRequest, type GraphCaller } from '../authz/access-token';
import { authorizeMailboxAccess } from '../authz/mailbox-access';
import { appMailboxDenial, effectivePermissions, mailboxUnavailable } from '../authz/mailbox-authorization';
import { isBasicReadOnly } from '../authz/permissions';
import type { Mailbox } from '../model/model.types';
import { newGuid } from '../shared/ids';
import { applyFaults, type SandboxContext } from '../shared/sandbox-context';
import { deltaRoutes } from './delta.handler';
import { folderRoutes } from './folders.handler';
import { graphErrors } from './graph-errors';
import { compileRoute, type CompiledRoute, type GraphPreferences, type GraphResult, type GraphRoute } from './graph-route';
import { graphErrorHandler, graphJsonContentType as jsonContentType } from './graph-error-handler';
import { mailboxSettingsRoutes } from './mailbox-settings.handler';
import { messageRoutes } from './messages.handler';
import { sendRoutes } from './send.handler';
import { registerUploadSessionRoutes, uploadSessionRoutes, type UploadSessions } from './upload-session.handler';

/** Parses the `Prefer` header(s): `odata.maxpagesize=n`, `IdType="ImmutableId"`, `outlook.body-content-type="text"`. */
function parsePrefer(header: string | string[] | undefined): GraphPreferences {
  const values = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((item) => item.trim());
  const prefer: GraphPreferences = { immutableIds: false };
  for (const value of values) {
    const [rawName = '', rawValue = ''] = value.split('=').map((part) => part.trim());
    const name = rawName.toLowerCase();
    const unquoted = rawValue.replace(/^"|"$/g, '');
    if (name === 'odata.maxpagesize' && /^\d+$/.test(unquoted)) prefer.maxPageSize = Math.min(Number(unquoted), 1000);
    if (name === 'idtype' && unquoted.toLowerCase() === 'immutableid') prefer.immutableIds = true;
    if (name === 'outlook.body-content-type' && (unquoted === 'text' || unquoted === 'html')) prefer.bodyContentType = unquoted;
  }
  return prefer;
}

/** Rewrites OData key segments (`mailFolders('inbox')`) to path segments (`mailFolders/inbox`). */
function normalizePath(path: string): string {
  return path.replace(/\(\s*'([^']*)'\s*\)/g, (_match, key: string) => `/${key}`);
}

const userProperties = (mailbox: Mailbox) => ({
  id: mailbox.id,
  displayName: mailbox.displayName,
  mail: mailbox.mail,
  userPrincipalName: mailbox.userPrincipalName,
  businessPhones: [],
  givenName: null,
  surname: null,
  jobTitle: null,
  officeLocation: null,
  preferredLanguage: 'en-US',
  mobilePhone: null,
});

/** Registers Graph v1.0 mail under `/v1.0/users/{id|upn}/…` and `/v1.0/me/…`. */
export function registerGraphRoutes(app: FastifyInstance, context: SandboxContext): void {
  // Literal paths first: `messages/delta` must not be taken for a message id.
  const uploads: UploadSessions = new Map();
  const routes: CompiledRoute[] = [
    ...deltaRoutes(context),
    ...sendRoutes(context),
    ...uploadSessionRoutes(uploads),
    ...folderRoutes,
    ...messageRoutes,
    ...mailboxSettingsRoutes,
  ].map((route: GraphRoute) => compileRoute(route));
  registerUploadSessionRoutes(app, context, uploads);

  const resolveMailbox = (caller: GraphCaller, segment: string): Mailbox => {
    if (caller.kind === 'user') {
      const self = caller.tenant.mailboxes.get(caller.userId ?? '');
      if (!self) throw graphErrors.invalidUser(segment);
      if (
        segment === 'me' ||
        segment.toLowerCase() === self.id ||
        segment.toLowerCase() === self.userPrincipalName.toLowerCase() ||
        segment.toLowerCase() === self.mail.toLowerCase()
      ) {
        return self;
      }
      // Another user's or a shared mailbox: authorizeMailboxAccess asks for Mail.*.Shared and Full Access.
      const other = context.state.findMailbox(caller.tenant, segment);
      if (!other) throw graphErrors.invalidUser(segment);
      return other;
    }
    if (segment === 'me') throw graphErrors.badRequest('/me request is only valid with delegated authentication flow.');
    const mailbox = context.state.findMailbox(caller.tenant, segment);
    if (!mailbox) throw graphErrors.invalidUser(segment);
    return mailbox;
  };

  const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const url = new URL(request.url, context.baseUrl());
    const requestId = newGuid();
    const clientRequestId = (request.headers['client-request-id'] as string | undefined) ?? requestId;
    void reply.header('request-id', requestId).header('client-request-id', clientRequestId);

    const path = normalizePath(decodeURIComponent(url.pathname.replace(/^\/v1\.0\/?/i, '')));
    const segments = path.split('/').filter(Boolean);
    let userSegment: string;
    let rest: string;
    if (segments[0]?.toLowerCase() === 'me') {
      userSegment = 'me';
      rest = segments.slice(1).join('/');
    } else if (segments[0]?.toLowerCase() === 'users' && segments[1]) {
      userSegment = segments[1];
      rest = segments.slice(2).join('/');
    } else {
      throw graphErrors.unknownSegment(segments[0] ?? '');
    }

    const caller = await authenticateGraphRequest(request.headers.authorization, {
      state: context.state,
      verifyKey: context.issuer.verifyKey,
      clock: context.clock,
      baseUrl: context.baseUrl(),
    });

    let route: CompiledRoute | undefined;
    let params: Record<string, string> = {};
    let methodMismatch = false;
    if (rest !== '') {
      for (const candidate of routes) {
        const match = candidate.pattern.exec(rest);
        if (!match) continue;
        if (candidate.method !== request.method) {
          methodMismatch = true;
          continue;
        }
        route = candidate;
        params = Object.fromEntries(candidate.paramNames.map((name, index) => [name, match[index + 1] ?? '']));
        break;
      }
      if (!route)
        throw methodMismatch
          ? graphErrors.methodNotAllowed(request.method)
          : graphErrors.unknownSegment(rest.split('/').pop() ?? rest);
    } else if (request.method !== 'GET') {
      throw graphErrors.methodNotAllowed(request.method);
    }

    const endpoint = route?.name ?? 'users.get';
    const stats = caller.tenant.stats;
    stats.graphRequests += 1;
    stats.graphRequestsByEndpoint[endpoint] = (stats.graphRequestsByEndpoint[endpoint] ?? 0) + 1;

    if (!route) {
      // GET /users/{id}: directory read, not mail.
      const permitted =
        caller.kind === 'user' || ['User.Read.All', 'User.ReadBasic.All'].some((role) => caller.permissions.has(role));
      if (!permitted) throw graphErrors.directoryDenied();
      return reply.type(jsonContentType).send({
        '@odata.context': `${context.baseUrl()}/v1.0/$metadata#users/$entity`,
        ...userProperties(resolveMailbox(caller, userSegment)),
      });
    }

    const access = route.access;
    const mailbox = resolveMailbox(caller, userSegment);
    // A delegate's access depends on whose mailbox it is; an app's on Entra roles, access policies and RBAC scopes.
    if (access !== 'user' && caller.kind !== 'app') authorizeMailboxAccess(caller, mailbox, access);
    const unavailable = mailboxUnavailable(caller, mailbox);
    if (unavailable) throw unavailable;
    const denial = access !== 'user' && caller.kind === 'app' ? appMailboxDenial(caller, mailbox, access) : undefined;
    if (denial) throw denial;
    const permissions = effectivePermissions(caller, mailbox);

    const slot = context.limiter.tryAcquire(caller.appId, mailbox.id, caller.tenant.throttling);
    if (!slot.ok) {
      stats.throttled += 1;
      throw graphErrors.throttled(
        slot.retryAfterSeconds,
        slot.reason === 'concurrency' ? 'MailboxConcurrency' : 'MailboxRequests',
      );
    }
    try {
      const fault = await applyFaults(context, request, reply, {
        endpoint,
        tenantId: caller.tenant.id,
        appId: caller.appId,
        mailboxId: mailbox.id,
        mailboxAddress: mailbox.userPrincipalName,
      });
      if (fault === 'dropped') return reply;
      if (fault?.status !== undefined) throw graphErrors.injected(fault.status, fault.retryAfterSeconds);

      const prefer = parsePrefer(request.headers.prefer);
      const base = context.baseUrl();
      const result: GraphResult = await route.handle({
        sandbox: context,
        caller,
        mailbox,
        params,
        query: url.searchParams,
        body: request.body,
        prefer,
        render: {
          immutableIds: prefer.immutableIds,
          ...(prefer.bodyContentType ? { bodyContentType: prefer.bodyContentType } : {}),
          basicOnly: isBasicReadOnly(permissions),
          baseUrl: base,
        },
        userUrl: `${base}/v1.0/${userSegment === 'me' ? 'me' : `users/${encodeURIComponent(userSegment)}`}`,
        now: context.clock(),
      });
      const applied = [
        ...(prefer.immutableIds ? ['IdType="ImmutableId"'] : []),
        ...(prefer.bodyContentType ? [`outlook.body-content-type="${prefer.bodyContentType}"`] : []),
        ...(result.headers?.['Preference-Applied'] ? [result.headers['Preference-Applied']] : []),
      ];
      if (fault?.dropResponse) {
        // Carried out, never answered: what a client sees when the connection is cut after Graph's 202.
        reply.hijack();
        request.raw.socket.destroy();
        return reply;
      }
      for (const [name, value] of Object.entries(result.headers ?? {}))
        if (name !== 'Preference-Applied') void reply.header(name, value);
      if (applied.length > 0) void reply.header('Preference-Applied', applied.join(', '));
      void reply.status(result.status);
      if (result.raw) return reply.type(result.raw.contentType).send(result.raw.data);
      if (result.body === undefined) return reply.send();
      return reply.type(jsonContentType).send(result.body);
    } finally {
      slot.release();
    }
  };

  void app.register(async (scope) => {
    scope.setErrorHandler(graphErrorHandler(context));
    scope.all('/v1.0/*', handle);
  });
}
