// Admin routes for the Entra side of a tenant: tenants, app registrations and their credentials, consent,
// role assignments, application access policies, groups, and device-code approval.
import { testApplicationAccessPolicy } from '../authz/access-policy';
import { NotFoundError, ValidationError } from '../errors';
import { createSelfSignedRsaCertificate } from '../transport/certificates';
import {
  accessPolicySchema,
  addCertificateSchema,
  consentSchema,
  createAppSchema,
  createSecretSchema,
  createTenantSchema,
  deviceApprovalSchema,
  groupSchema,
  roleAssignmentSchema,
  throttlingSchema,
  updateAppSchema,
} from './admin-schemas';
import { toAppView, toTenantView } from './admin.views';
import { parse, type AppParams, type TenantParams, type AdminRouteDeps } from './admin-request';

/** Tenants, apps (secrets, certificates, consent, role assignments), access policies, groups, device codes. */
export function registerTenantAdminRoutes({ app, context, grants, endpoints }: AdminRouteDeps): void {
  const { state, clock } = context;
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
}
