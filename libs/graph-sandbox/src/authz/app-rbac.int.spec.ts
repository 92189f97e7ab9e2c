import type { GraphError } from '@microsoft/microsoft-graph-client';
import type { GraphSandbox, GraphSandboxEndpoints } from '../server';
import type { CreateAppRequest } from '../admin/admin-schemas';
import {
  caught,
  createAppGraphClient,
  createMsalClient,
  createTestTenant,
  decodeClaims,
  graphDefaultScope,
  required,
  startTestSandbox,
} from '../testing/sandbox.fixture';

/**
 * Conformance of RBAC for Applications and mailbox availability with Microsoft's documentation:
 * - https://learn.microsoft.com/en-us/exchange/permissions-exo/application-rbac (management scopes with a
 *   RecipientRestrictionFilter, `New-ManagementRoleAssignment -App … -Role "Application Mail.ReadWrite"
 *   -CustomResourceScope …`, `Test-ServicePrincipalAuthorization` with its InScope column);
 * - https://learn.microsoft.com/en-us/graph/auth-limit-mailbox-access ("These permission grants are
 *   independent of the unscoped grants in Microsoft Entra ID": a tenant-wide Entra grant is not narrowed by
 *   an RBAC scope, and RBAC grants need no Entra grant);
 * - https://learn.microsoft.com/en-us/powershell/module/exchange/Test-ServicePrincipalAuthorization;
 * - https://learn.microsoft.com/en-us/graph/resolve-auth-errors (403 ErrorAccessDenied "Access is denied.
 *   Check credentials and try again." when the app holds no permission for the resource);
 * - https://learn.microsoft.com/en-us/graph/known-issues / errors: 404 MailboxNotEnabledForRESTAPI for a
 *   user without an Exchange Online mailbox license ("REST API is not yet supported for this mailbox.") and
 *   for an inactive or soft-deleted mailbox.
 */
describe('RBAC for Applications and mailbox availability (real MSAL and Graph client over HTTPS)', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;

  beforeAll(async () => {
    ({ sandbox, endpoints } = await startTestSandbox());
  });
  afterAll(() => sandbox.stop());

  /** An app with no Entra mail permission, scoped by RBAC to mailboxes with CustomAttribute1 = mailroute. */
  async function rbacTenant(entraPermissions: CreateAppRequest['applicationPermissions'] = []) {
    const tenant = await createTestTenant(endpoints, { applicationPermissions: entraPermissions });
    const other = `ceo@${tenant.domain}`;
    await endpoints.admin.createMailbox(tenant.tenantId, { userPrincipalName: other });
    await endpoints.admin.setRecipient(tenant.tenantId, tenant.mailbox, { customAttributes: { CustomAttribute1: 'mailroute' } });
    await endpoints.admin.createManagementScope(tenant.tenantId, {
      name: 'mailroute mailboxes',
      recipientRestrictionFilter: "CustomAttribute1 -eq 'mailroute'",
    });
    for (const role of ['Application Mail.ReadWrite', 'Application Mail.Send'] as const)
      await endpoints.admin.assignApplicationRole(tenant.tenantId, {
        app: tenant.app.clientId,
        role,
        customResourceScope: 'mailroute mailboxes',
      });
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    return { tenant, other, msal, graph: createAppGraphClient(endpoints, msal) };
  }

  it('Test-ServicePrincipalAuthorization lists each role assignment with InScope per mailbox', async () => {
    const { tenant, other } = await rbacTenant();
    const inside = await endpoints.admin.testServicePrincipalAuthorization(tenant.tenantId, tenant.app.clientId, tenant.mailbox);
    expect(inside.value).toEqual([
      {
        RoleName: 'Application Mail.ReadWrite',
        GrantedPermissions: 'Mail.ReadWrite',
        AllowedResourceScope: 'mailroute mailboxes',
        ScopeType: 'CustomRecipientScope',
        InScope: true,
      },
      expect.objectContaining({ RoleName: 'Application Mail.Send', GrantedPermissions: 'Mail.Send', InScope: true }),
    ]);
    const outside = await endpoints.admin.testServicePrincipalAuthorization(tenant.tenantId, tenant.app.clientId, other);
    expect(outside.value.map((row) => row.InScope)).toEqual([false, false]);
  });

  it('grants an app without any Entra permission the mailboxes in its scope (the token carries no roles)', async () => {
    const { tenant, msal, graph } = await rbacTenant();
    const token = required(await msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] })).accessToken;
    expect(decodeClaims(token)['roles']).toBeUndefined();
    await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, { from: 'customer@example.org', subject: 'hello' });
    const page = await graph.api(`/users/${tenant.mailbox}/mailFolders/inbox/messages`).get();
    expect(page.value.map((message: { subject: string }) => message.subject)).toEqual(['hello']);
    await graph.api(`/users/${tenant.mailbox}/sendMail`).post({
      message: {
        subject: 'reply',
        body: { contentType: 'text', content: 'hi' },
        toRecipients: [{ emailAddress: { address: 'customer@example.org' } }],
      },
    });
    expect((await endpoints.admin.sent(tenant.tenantId, tenant.mailbox)).value).toHaveLength(1);
  });

  it('answers a mailbox outside the scope with 403 ErrorAccessDenied "Access is denied. Check credentials and try again."', async () => {
    const { other, graph } = await rbacTenant();
    const error = await caught<GraphError>(() => graph.api(`/users/${other}/mailFolders/inbox/messages`).get());
    expect(error.statusCode).toBe(403);
    expect(error.code).toBe('ErrorAccessDenied');
    expect(error.message).toBe('Access is denied. Check credentials and try again.');
  });

  it('brings a mailbox into scope when its recipient property changes, and out again when the assignment is removed', async () => {
    const { tenant, other, graph } = await rbacTenant();
    await endpoints.admin.setRecipient(tenant.tenantId, other, { customAttributes: { CustomAttribute1: 'mailroute' } });
    expect((await graph.api(`/users/${other}/mailFolders/inbox/messages`).get()).value).toEqual([]);
    const assignments = await endpoints.admin.testServicePrincipalAuthorization(tenant.tenantId, tenant.app.clientId, other);
    expect(assignments.value.every((row) => row.InScope)).toBe(true);
  });

  it('does not narrow a tenant-wide Entra Mail.ReadWrite: RBAC grants are additive', async () => {
    const { other, graph } = await rbacTenant(['Mail.ReadWrite']);
    expect((await graph.api(`/users/${other}/mailFolders/inbox/messages`).get()).value).toEqual([]);
  });

  it('scopes by group membership (MemberOfGroup) and rejects filters it cannot evaluate, naming the field', async () => {
    const tenant = await createTestTenant(endpoints, { applicationPermissions: [] });
    await endpoints.admin.setGroupMembers(tenant.tenantId, `routed@${tenant.domain}`, [tenant.mailbox]);
    await endpoints.admin.createManagementScope(tenant.tenantId, {
      name: 'routed',
      recipientRestrictionFilter: `MemberOfGroup -eq 'routed@${tenant.domain}'`,
    });
    await endpoints.admin.assignApplicationRole(tenant.tenantId, {
      app: tenant.app.clientId,
      role: 'Application Mail.Read',
      customResourceScope: 'routed',
    });
    const rows = await endpoints.admin.testServicePrincipalAuthorization(tenant.tenantId, tenant.app.clientId, tenant.mailbox);
    expect(rows.value).toEqual([expect.objectContaining({ RoleName: 'Application Mail.Read', InScope: true })]);
    const refused = await caught<{ status: number; body: { error: { message: string } } }>(() =>
      endpoints.admin.createManagementScope(tenant.tenantId, { name: 'bad', recipientRestrictionFilter: "Department -eq 'x'" }),
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/recipientRestrictionFilter/);
  });

  it('answers 404 MailboxNotEnabledForRESTAPI for an unlicensed user and for an inactive mailbox, with different messages', async () => {
    const { tenant, graph } = await rbacTenant(['Mail.ReadWrite']);
    const inactive = `former@${tenant.domain}`;
    await endpoints.admin.createMailbox(tenant.tenantId, { userPrincipalName: inactive, mailboxEnabled: false });
    await endpoints.admin.setRecipient(tenant.tenantId, tenant.mailbox, { exchangeLicensed: false });
    const unlicensed = await caught<GraphError>(() => graph.api(`/users/${tenant.mailbox}/mailFolders/inbox`).get());
    expect(unlicensed).toMatchObject({
      statusCode: 404,
      code: 'MailboxNotEnabledForRESTAPI',
      message: 'REST API is not yet supported for this mailbox.',
    });
    const gone = await caught<GraphError>(() => graph.api(`/users/${inactive}/mailFolders/inbox`).get());
    expect(gone).toMatchObject({
      statusCode: 404,
      code: 'MailboxNotEnabledForRESTAPI',
      message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
    });
  });
});
