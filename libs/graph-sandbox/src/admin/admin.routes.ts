import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { testApplicationAccessPolicy } from '../authz/access-policy';
import type { GrantStore } from '../entra/grant-store';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../errors';
import { deliverInbound, type InboundMail } from '../model/mail-delivery';
import { deleteMessage, findFolder, findMessage, messagesInFolder } from '../model/mailbox.store';
import type { Recipient } from '../model/model.types';
import type { SandboxContext } from '../shared/sandbox-context';
import { generateTraffic } from '../traffic/traffic-generator';
import { createSelfSignedRsaCertificate } from '../transport/certificates';
import { faultRuleSchema } from '../throttling/fault-injector';
import {
  accessPolicySchema,
  addCertificateSchema,
  bulkMailSchema,
  consentSchema,
  createAppSchema,
  createMailboxSchema,
  createSecretSchema,
  createTenantSchema,
  deviceApprovalSchema,
  groupSchema,
  inboundMailSchema,
  roleAssignmentSchema,
  throttlingSchema,
  trafficSchema,
  updateAppSchema,
} from './admin-schemas';
import { toAppView, toMailboxView, toMessageSummary, toTenantView } from './admin.views';
import { seedDemoProfile } from './demo-profile';

type TenantParams = { tenantId: string };
type AppParams = TenantParams & { appId: string };
type MailboxParams = TenantParams & { mailbox: string };

/** What the admin API reports about the running sandbox. */
export interface SandboxEndpoints {
  baseUrl: string;
  adminUrl: string;
  caCertPath: string;
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ValidationError(issue?.path.join('.') || '(body)', issue?.message ?? 'invalid');
}

function toRecipient(value: string | { name?: string | undefined; address: string }): Recipient {
  return typeof value === 'string'
    ? { emailAddress: { address: value } }
    : { emailAddress: { address: value.address, ...(value.name ? { name: value.name } : {}) } };
}

function toInboundMail(input: z.output<typeof inboundMailSchema>): InboundMail {
  const headers =
    input.headers === undefined
      ? undefined
      : Array.isArray(input.headers)
        ? input.headers
        : Object.entries(input.headers).map(([name, value]) => ({ name, value }));
  return {
    from: toRecipient(input.from),
    ...(input.to ? { to: input.to.map(toRecipient) } : {}),
    ...(input.cc ? { cc: input.cc.map(toRecipient) } : {}),
    ...(input.replyTo ? { replyTo: input.replyTo.map(toRecipient) } : {}),
    subject: input.subject,
    body: { contentType: input.bodyType, content: input.body },
    ...(headers ? { headers } : {}),
    ...(input.attachments
      ? {
          attachments: input.attachments.map((attachment) => ({
            name: attachment.name,
            contentType: attachment.contentType,
            content: Buffer.from(attachment.contentBase64, 'base64'),
            ...(attachment.isInline === undefined ? {} : { isInline: attachment.isInline }),
            ...(attachment.contentId ? { contentId: attachment.contentId } : {}),
          })),
        }
      : {}),
    ...(input.internetMessageId ? { internetMessageId: input.internetMessageId } : {}),
    ...(input.inReplyTo ? { inReplyTo: input.inReplyTo } : {}),
    ...(input.references ? { references: input.references } : {}),
    ...(input.receivedDateTime ? { receivedMs: Date.parse(input.receivedDateTime) } : {}),
    ...(input.importance ? { importance: input.importance } : {}),
    ...(input.folder ? { folder: input.folder } : {}),
  };
}

/** The control API (plain HTTP, loopback only): tenants, apps, credentials, consent, policies, mailboxes, mail, faults. */
export function registerAdminRoutes(
  app: FastifyInstance,
  context: SandboxContext,
  grants: GrantStore,
  endpoints: () => SandboxEndpoints,
): void {
  const { state, clock } = context;

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

  const mailboxOf = (params: MailboxParams) => state.getMailbox(params.tenantId, decodeURIComponent(params.mailbox));

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

  app.post('/tenants', async (request, reply) =>
    reply.status(201).send(toTenantView(state.createTenant(parse(createTenantSchema, request.body)), endpoints().baseUrl)),
  );
  app.get('/tenants', async () => ({
    value: [...state.tenants.values()].map((tenant) => toTenantView(tenant, endpoints().baseUrl)),
  }));
  app.get<{ Params: TenantParams }>('/tenants/:tenantId', async (request) =>
    toTenantView(state.getTenant(request.params.tenantId), endpoints().baseUrl),
  );
  app.delete<{ Params: TenantParams }>('/tenants/:tenantId', async (request, reply) => {
    state.deleteTenant(request.params.tenantId);
    return reply.status(204).send();
  });
  app.get<{ Params: TenantParams }>(
    '/tenants/:tenantId/stats',
    async (request) => state.getTenant(request.params.tenantId).stats,
  );
  app.put<{ Params: TenantParams }>('/tenants/:tenantId/throttling', async (request) => {
    const input = parse(throttlingSchema, request.body);
    return state.setThrottling(
      request.params.tenantId,
      Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)),
    );
  });

  app.post<{ Params: TenantParams }>('/tenants/:tenantId/apps', async (request, reply) => {
    const input = parse(createAppSchema, request.body);
    return reply
      .status(201)
      .send(
        toAppView(
          state.createApp(
            request.params.tenantId,
            Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)),
          ),
        ),
      );
  });
  app.get<{ Params: AppParams }>('/tenants/:tenantId/apps/:appId', async (request) =>
    toAppView(state.getApp(request.params.tenantId, request.params.appId)),
  );
  app.patch<{ Params: AppParams }>('/tenants/:tenantId/apps/:appId', async (request) => {
    const input = parse(updateAppSchema, request.body);
    const registration = state.getApp(request.params.tenantId, request.params.appId);
    if (input.enabled !== undefined) registration.enabled = input.enabled;
    if (input.allowPublicClient !== undefined) registration.allowPublicClient = input.allowPublicClient;
    if (input.redirectUris !== undefined) registration.redirectUris = input.redirectUris;
    if (input.spaRedirectUris !== undefined) registration.spaRedirectUris = input.spaRedirectUris;
    if (input.displayName !== undefined) registration.displayName = input.displayName;
    return toAppView(registration);
  });
  app.post<{ Params: AppParams }>('/tenants/:tenantId/apps/:appId/secrets', async (request, reply) => {
    const input = parse(createSecretSchema, request.body);
    const now = clock();
    const endMs = input.endDateTime
      ? Date.parse(input.endDateTime)
      : input.expiresInSeconds !== undefined
        ? now + input.expiresInSeconds * 1000
        : undefined;
    const startMs = input.startDateTime
      ? Date.parse(input.startDateTime)
      : endMs !== undefined && endMs < now
        ? endMs - 86_400_000
        : undefined;
    const secret = state.addSecret(request.params.tenantId, request.params.appId, {
      ...(input.displayName ? { displayName: input.displayName } : {}),
      ...(endMs !== undefined ? { endMs } : {}),
      ...(startMs !== undefined ? { startMs } : {}),
    });
    return reply.status(201).send({
      keyId: secret.keyId,
      displayName: secret.displayName,
      hint: secret.hint,
      secretText: secret.secretText,
      startDateTime: new Date(secret.startMs).toISOString(),
      endDateTime: new Date(secret.endMs).toISOString(),
    });
  });
  app.delete<{ Params: AppParams & { keyId: string } }>(
    '/tenants/:tenantId/apps/:appId/secrets/:keyId',
    async (request, reply) => {
      const registration = state.getApp(request.params.tenantId, request.params.appId);
      const before = registration.secrets.length;
      registration.secrets = registration.secrets.filter((secret) => secret.keyId !== request.params.keyId);
      if (registration.secrets.length === before) throw new NotFoundError('secret', request.params.keyId);
      return reply.status(204).send();
    },
  );
  app.post<{ Params: AppParams }>('/tenants/:tenantId/apps/:appId/certificates', async (request, reply) => {
    const input = parse(addCertificateSchema, request.body);
    state.getApp(request.params.tenantId, request.params.appId);
    const generated = input.certificatePem
      ? undefined
      : await createSelfSignedRsaCertificate({
          subject: input.displayName ?? 'mailroute',
          validDays: input.validDays ?? 365,
          clock,
        });
    const credential = state.addCertificate(request.params.tenantId, request.params.appId, {
      certificatePem: input.certificatePem ?? generated?.certificatePem ?? '',
      ...(input.displayName ? { displayName: input.displayName } : {}),
    });
    return reply.status(201).send({
      keyId: credential.keyId,
      thumbprintSha256: credential.thumbprintSha256,
      thumbprint: credential.thumbprintSha1,
      endDateTime: new Date(credential.endMs).toISOString(),
      ...(generated ? { certificatePem: generated.certificatePem, privateKeyPem: generated.privateKeyPem } : {}),
    });
  });
  app.put<{ Params: AppParams }>('/tenants/:tenantId/apps/:appId/consent', async (request) => {
    const input = parse(consentSchema, request.body);
    const { tenantId, appId } = request.params;
    if (input.applicationPermissions) state.setApplicationConsent(tenantId, appId, input.applicationPermissions);
    if (input.delegatedPermissions) {
      const userId = input.user ? state.getMailbox(tenantId, input.user).id : undefined;
      state.setDelegatedConsent(tenantId, appId, input.delegatedPermissions, userId);
    }
    return toAppView(state.getApp(tenantId, appId));
  });

  app.put<{ Params: AppParams & { user: string } }>('/tenants/:tenantId/apps/:appId/role-assignments/:user', async (request) => {
    const input = parse(roleAssignmentSchema, request.body);
    const { tenantId, appId } = request.params;
    return toAppView(state.setRoleAssignments(tenantId, appId, decodeURIComponent(request.params.user), input.roles));
  });

  app.post<{ Params: TenantParams }>('/tenants/:tenantId/access-policies', async (request, reply) => {
    const input = parse(accessPolicySchema, request.body);
    return reply.status(201).send(
      state.createAccessPolicy(request.params.tenantId, {
        appId: input.appId,
        accessRight: input.accessRight,
        policyScopeGroupId: input.policyScopeGroupId,
        ...(input.members ? { members: input.members } : {}),
        ...(input.description ? { description: input.description } : {}),
      }),
    );
  });
  app.get<{ Params: TenantParams }>('/tenants/:tenantId/access-policies', async (request) => ({
    value: state.getTenant(request.params.tenantId).accessPolicies,
  }));
  app.delete<{ Params: TenantParams & { policyId: string } }>(
    '/tenants/:tenantId/access-policies/:policyId',
    async (request, reply) => {
      state.removeAccessPolicy(request.params.tenantId, decodeURIComponent(request.params.policyId));
      return reply.status(204).send();
    },
  );
  app.get<{ Params: TenantParams; Querystring: { appId?: string; identity?: string } }>(
    '/tenants/:tenantId/access-policies/test',
    async (request) => {
      const { appId, identity } = request.query;
      if (!appId) throw new ValidationError('appId', 'required');
      if (!identity) throw new ValidationError('identity', 'required');
      const tenant = state.getTenant(request.params.tenantId);
      const mailbox = state.getMailbox(tenant.id, identity);
      return {
        appId: appId.toLowerCase(),
        mailbox: mailbox.userPrincipalName,
        accessCheckResult: testApplicationAccessPolicy(tenant, appId, mailbox.id),
      };
    },
  );
  app.put<{ Params: TenantParams & { group: string } }>('/tenants/:tenantId/groups/:group', async (request) => {
    const input = parse(groupSchema, request.body);
    state.setGroupMembers(request.params.tenantId, decodeURIComponent(request.params.group), input.members);
    return { group: decodeURIComponent(request.params.group).toLowerCase(), members: input.members };
  });

  app.post<{ Params: TenantParams }>('/tenants/:tenantId/mailboxes', async (request, reply) => {
    const input = parse(createMailboxSchema, request.body);
    return reply
      .status(201)
      .send(
        toMailboxView(
          state.createMailbox(
            request.params.tenantId,
            Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as typeof input,
          ),
        ),
      );
  });
  app.get<{ Params: TenantParams }>('/tenants/:tenantId/mailboxes', async (request) => ({
    value: [...state.getTenant(request.params.tenantId).mailboxes.values()].map(toMailboxView),
  }));
  app.get<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox', async (request) =>
    toMailboxView(mailboxOf(request.params)),
  );
  app.post<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/messages', async (request, reply) => {
    const mailbox = mailboxOf(request.params);
    const message = deliverInbound(mailbox, toInboundMail(parse(inboundMailSchema, request.body)), clock());
    return reply.status(201).send(toMessageSummary(mailbox, message));
  });
  app.post<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/messages/bulk', async (request, reply) => {
    const mailbox = mailboxOf(request.params);
    const input = parse(bulkMailSchema, request.body);
    const now = clock();
    const delivered = input.messages.map((mail) => toMessageSummary(mailbox, deliverInbound(mailbox, toInboundMail(mail), now)));
    return reply.status(201).send({ value: delivered });
  });
  app.post<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/traffic', async (request, reply) => {
    const mailbox = mailboxOf(request.params);
    const input = parse(trafficSchema, request.body);
    const now = clock();
    const mails = generateTraffic({
      count: input.count,
      ...(input.seed !== undefined ? { seed: input.seed } : {}),
      ...(input.mix ? { mix: input.mix } : {}),
      ...(input.largeAttachmentBytes ? { largeAttachmentBytes: input.largeAttachmentBytes } : {}),
      mailboxAddress: mailbox.mail,
      sentMessageIds: mailbox.sent.map((sent) => sent.internetMessageId),
      now,
    });
    const delivered = mails.map(({ kind, ...mail }) => ({
      kind,
      ...toMessageSummary(mailbox, deliverInbound(mailbox, mail, now)),
    }));
    return reply.status(201).send({ value: delivered });
  });
  app.get<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/sent', async (request) => ({
    value: mailboxOf(request.params).sent,
  }));
  app.get<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/folders', async (request) => {
    const mailbox = mailboxOf(request.params);
    return {
      value: [...mailbox.folders.values()].map((folder) => {
        const messages = messagesInFolder(mailbox, folder.id);
        return {
          id: folder.id,
          displayName: folder.displayName,
          wellKnownName: folder.wellKnownName ?? null,
          parentFolderId: folder.parentFolderId,
          totalItemCount: messages.length,
          unreadItemCount: messages.filter((message) => !message.isRead).length,
        };
      }),
    };
  });
  app.get<{ Params: MailboxParams & { folder: string } }>(
    '/tenants/:tenantId/mailboxes/:mailbox/folders/:folder/messages',
    async (request) => {
      const mailbox = mailboxOf(request.params);
      const folder = findFolder(mailbox, decodeURIComponent(request.params.folder));
      if (!folder) throw new NotFoundError('folder', request.params.folder);
      return {
        value: messagesInFolder(mailbox, folder.id)
          .sort((a, b) => b.receivedMs - a.receivedMs)
          .map((message) => toMessageSummary(mailbox, message)),
      };
    },
  );
  app.delete<{ Params: MailboxParams & { messageId: string } }>(
    '/tenants/:tenantId/mailboxes/:mailbox/messages/:messageId',
    async (request, reply) => {
      const mailbox = mailboxOf(request.params);
      const message = findMessage(mailbox, decodeURIComponent(request.params.messageId));
      if (!message) throw new NotFoundError('message', request.params.messageId);
      deleteMessage(mailbox, message);
      return reply.status(204).send();
    },
  );
  app.post<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/delta-tokens/expire', async (request) => {
    const mailbox = mailboxOf(request.params);
    mailbox.syncGenerationFloor = mailbox.syncGeneration + 1;
    return { expiredThroughGeneration: mailbox.syncGeneration };
  });
  app.post<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/revoke-sessions', async (request) => {
    const mailbox = mailboxOf(request.params);
    return { revokedRefreshTokens: grants.revokeUser(mailbox.tenantId, mailbox.id) };
  });
  app.post('/device-codes/approve', async (request) => {
    const input = parse(deviceApprovalSchema, request.body);
    const grant = grants.deviceCodeByUserCode(input.userCode);
    if (!grant || clock() > grant.expiresMs) throw new NotFoundError('device code', input.userCode);
    const tenant = grant.tenantId ? state.tenants.get(grant.tenantId) : undefined;
    const mailbox = tenant ? state.findMailbox(tenant, input.user) : undefined;
    if (!mailbox) throw new ValidationError('user', `no mailbox ${JSON.stringify(input.user)} in the code's tenant`);
    if (input.decline) grant.declined = true;
    else grant.userId = mailbox.id;
    return { userCode: grant.userCode, user: mailbox.userPrincipalName, approved: !input.decline };
  });

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
