// Admin routes for Exchange Online's RBAC for Applications and the recipient properties it filters on:
// the sandbox's stand-ins for New-ManagementScope, New-ManagementRoleAssignment -App,
// Test-ServicePrincipalAuthorization, Set-Mailbox -CustomAttributeN and (un)assigning the Exchange license.
import { z } from 'zod';
import { applicationRoles, parseRecipientFilter, testServicePrincipalAuthorization } from '../authz/app-rbac';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../errors';
import type { ApplicationRoleName, AppRoleAssignment, ManagementScope } from '../model/model.types';
import { parse, type AdminRouteDeps, type MailboxParams, type TenantParams } from './admin-request';

const name = z.string().min(1).max(64);

export const managementScopeSchema = z.object({ name, recipientRestrictionFilter: z.string().min(1).max(2048) }).strict();

export const roleAssignmentRequestSchema = z
  .object({
    /** The app's client id (`-App`). */
    app: z.string().min(1),
    role: z.enum(Object.keys(applicationRoles) as [ApplicationRoleName, ...ApplicationRoleName[]]),
    /** A management scope's name; unset: the whole organization. */
    customResourceScope: name.optional(),
    name: name.optional(),
  })
  .strict();

export const recipientSchema = z
  .object({
    /** CustomAttribute1 … CustomAttribute15 → value ('' clears). */
    customAttributes: z
      .record(z.string().regex(/^CustomAttribute(?:[1-9]|1[0-5])$/, 'CustomAttribute1 … CustomAttribute15'), z.string().max(1024))
      .optional(),
    exchangeLicensed: z.boolean().optional(),
  })
  .strict();

const scopeView = (scope: ManagementScope) => ({
  name: scope.name,
  recipientRestrictionFilter: scope.recipientRestrictionFilter,
});

/** Management scopes, app role assignments, Test-ServicePrincipalAuthorization, recipient properties. */
export function registerAppRbacAdminRoutes({ app, context }: AdminRouteDeps): void {
  const { state } = context;

  app.post<{ Params: TenantParams }>('/tenants/:tenantId/management-scopes', async (request, reply) => {
    const input = parse(managementScopeSchema, request.body);
    const rbac = state.getTenant(request.params.tenantId).exchangeAppRbac;
    if (rbac.scopes.has(input.name.toLowerCase())) throw new AlreadyExistsError('management scope', input.name);
    const scope: ManagementScope = { ...input, ...parseRecipientFilter(input.recipientRestrictionFilter) };
    rbac.scopes.set(input.name.toLowerCase(), scope);
    return reply.status(201).send(scopeView(scope));
  });
  app.get<{ Params: TenantParams }>('/tenants/:tenantId/management-scopes', async (request) => ({
    value: [...state.getTenant(request.params.tenantId).exchangeAppRbac.scopes.values()].map(scopeView),
  }));
  app.delete<{ Params: TenantParams & { name: string } }>(
    '/tenants/:tenantId/management-scopes/:name',
    async (request, reply) => {
      const rbac = state.getTenant(request.params.tenantId).exchangeAppRbac;
      const key = decodeURIComponent(request.params.name).toLowerCase();
      if (rbac.assignments.some((assignment) => assignment.customResourceScope?.toLowerCase() === key))
        throw new ValidationError('name', 'the scope is used by a role assignment; remove the assignment first');
      if (!rbac.scopes.delete(key)) throw new NotFoundError('management scope', key);
      return reply.status(204).send();
    },
  );

  app.post<{ Params: TenantParams }>('/tenants/:tenantId/management-role-assignments', async (request, reply) => {
    const input = parse(roleAssignmentRequestSchema, request.body);
    const tenant = state.getTenant(request.params.tenantId);
    const appId = input.app.toLowerCase();
    if (!tenant.apps.has(appId)) throw new ValidationError('app', `no service principal for app ${input.app} in this tenant`);
    if (input.customResourceScope && !tenant.exchangeAppRbac.scopes.has(input.customResourceScope.toLowerCase()))
      throw new ValidationError('customResourceScope', `no management scope ${JSON.stringify(input.customResourceScope)}`);
    const assignmentName =
      input.name ?? `${input.role}-${appId}${input.customResourceScope ? `-${input.customResourceScope}` : ''}`;
    if (tenant.exchangeAppRbac.assignments.some((assignment) => assignment.name.toLowerCase() === assignmentName.toLowerCase()))
      throw new AlreadyExistsError('management role assignment', assignmentName);
    const assignment: AppRoleAssignment = {
      name: assignmentName,
      appId,
      role: input.role,
      ...(input.customResourceScope ? { customResourceScope: input.customResourceScope } : {}),
    };
    tenant.exchangeAppRbac.assignments.push(assignment);
    return reply.status(201).send(assignment);
  });
  app.get<{ Params: TenantParams }>('/tenants/:tenantId/management-role-assignments', async (request) => ({
    value: state.getTenant(request.params.tenantId).exchangeAppRbac.assignments,
  }));
  app.delete<{ Params: TenantParams & { name: string } }>(
    '/tenants/:tenantId/management-role-assignments/:name',
    async (request, reply) => {
      const rbac = state.getTenant(request.params.tenantId).exchangeAppRbac;
      const key = decodeURIComponent(request.params.name).toLowerCase();
      const before = rbac.assignments.length;
      rbac.assignments = rbac.assignments.filter((assignment) => assignment.name.toLowerCase() !== key);
      if (rbac.assignments.length === before) throw new NotFoundError('management role assignment', key);
      return reply.status(204).send();
    },
  );

  app.get<{ Params: TenantParams; Querystring: { identity?: string; resource?: string } }>(
    '/tenants/:tenantId/service-principal-authorization',
    async (request) => {
      const { identity, resource } = request.query;
      if (!identity) throw new ValidationError('identity', 'required');
      if (!resource) throw new ValidationError('resource', 'required');
      const tenant = state.getTenant(request.params.tenantId);
      return { value: testServicePrincipalAuthorization(tenant, identity, state.getMailbox(tenant.id, resource)) };
    },
  );

  app.patch<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/recipient', async (request) => {
    const input = parse(recipientSchema, request.body);
    const tenant = state.getTenant(request.params.tenantId);
    const mailbox = state.getMailbox(tenant.id, decodeURIComponent(request.params.mailbox));
    const current = tenant.exchangeAppRbac.recipients.get(mailbox.id) ?? { customAttributes: {}, exchangeLicensed: true };
    const customAttributes = { ...current.customAttributes };
    for (const [attribute, value] of Object.entries(input.customAttributes ?? {})) {
      if (value === '') delete customAttributes[attribute];
      else customAttributes[attribute] = value;
    }
    const updated = { customAttributes, exchangeLicensed: input.exchangeLicensed ?? current.exchangeLicensed };
    tenant.exchangeAppRbac.recipients.set(mailbox.id, updated);
    return { mailbox: mailbox.userPrincipalName, ...updated };
  });
}
