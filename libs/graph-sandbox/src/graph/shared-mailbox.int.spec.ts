// Conformance of shared mailboxes and delegate access with Microsoft's documentation:
// [S] mailboxSettings resource, userPurpose: https://learn.microsoft.com/en-us/graph/api/resources/mailboxsettings
// [G] Get mailboxSettings (permissions): https://learn.microsoft.com/en-us/graph/api/user-get-mailboxsettings
// [D] Get Outlook messages in a shared or delegated folder: https://learn.microsoft.com/en-us/graph/outlook-share-messages-folders
// [F] Send Outlook messages from another user: https://learn.microsoft.com/en-us/graph/outlook-send-mail-from-other-user
// [A] About shared mailboxes (the account's sign-in is blocked): https://learn.microsoft.com/en-us/microsoft-365/admin/email/about-shared-mailboxes
import type { Client, GraphError } from '@microsoft/microsoft-graph-client';
import type { GraphSandbox, GraphSandboxEndpoints } from '../server';
import {
  caught,
  createAppGraphClient,
  createGraphClient,
  createMsalClient,
  createMsalPublicClient,
  createTestTenant,
  required,
  startTestSandbox,
  type TestTenant,
} from '../testing/sandbox.fixture';

const sharedScopes = ['Mail.ReadWrite.Shared', 'Mail.Send.Shared'] as const;
const ownScopes = ['Mail.ReadWrite', 'Mail.Send'] as const;

describe('shared mailboxes and delegate access (Full Access, Send As, Send on Behalf, .Shared scopes)', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;

  beforeAll(async () => {
    ({ sandbox, endpoints } = await startTestSandbox({ deviceCodeIntervalSeconds: 1 }));
  });
  afterAll(() => sandbox.stop());

  /** A tenant whose app has both own and `.Shared` delegated scopes consented, a shared mailbox, an agent and a customer. */
  async function setUp() {
    const tenant: TestTenant = await createTestTenant(endpoints, {
      applicationPermissions: ['Mail.ReadWrite', 'Mail.Send', 'MailboxSettings.Read'],
      delegatedPermissions: [...ownScopes, ...sharedScopes, 'MailboxSettings.Read'],
      allowPublicClient: true,
    });
    const shared = `billing@${tenant.domain}`;
    const agent = `agent@${tenant.domain}`;
    const customer = `customer@${tenant.domain}`;
    await endpoints.admin.createMailbox(tenant.tenantId, {
      userPrincipalName: shared,
      displayName: 'Billing',
      userPurpose: 'shared',
    });
    await endpoints.admin.createMailbox(tenant.tenantId, { userPrincipalName: agent, displayName: 'Agent' });
    await endpoints.admin.createMailbox(tenant.tenantId, { userPrincipalName: customer, displayName: 'Customer' });
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    return { tenant, shared, agent, customer, app: createAppGraphClient(endpoints, msal) };
  }

  /** A Graph client acting as `user`, signed in through MSAL's device-code flow for `scopes`. */
  async function signedIn(tenant: TestTenant, user: string, scopes: readonly string[]): Promise<Client> {
    const pca = createMsalPublicClient(endpoints, tenant.tenantId, tenant.app.clientId);
    const result = required(
      await pca.acquireTokenByDeviceCode({
        scopes: [...scopes],
        deviceCodeCallback: (response) => void endpoints.admin.approveDeviceCode(response.userCode, user),
      }),
    );
    return createGraphClient(endpoints, async () => result.accessToken);
  }

  const inbox = (graph: Client, mailbox: string) => graph.api(`/users/${mailbox}/mailFolders/inbox/messages`).get();
  const errorOf = (action: () => Promise<unknown>) => caught<GraphError>(action);

  it('[S][G] reports userPurpose user or shared to an app with MailboxSettings.Read, and 403 without it', async () => {
    const { tenant, shared, app } = await setUp();
    expect((await app.api(`/users/${shared}/mailboxSettings/userPurpose`).get()).value).toBe('shared');
    expect((await app.api(`/users/${tenant.mailbox}/mailboxSettings`).get()).userPurpose).toBe('user');

    const bare = await createTestTenant(endpoints);
    const bareApp = createAppGraphClient(
      endpoints,
      createMsalClient(endpoints, bare.tenantId, bare.app.clientId, { clientSecret: bare.secret.secretText }),
    );
    const denied = await errorOf(() => bareApp.api(`/users/${bare.mailbox}/mailboxSettings/userPurpose`).get());
    expect([denied.statusCode, denied.code]).toEqual([403, 'ErrorAccessDenied']);
  });

  it('[G] lets a signed-in user read their own mailboxSettings but not a shared mailbox they have Full Access to', async () => {
    const { tenant, shared, agent } = await setUp();
    await endpoints.admin.grantMailboxPermission(tenant.tenantId, shared, { user: agent, accessRights: ['FullAccess'] });
    const graph = await signedIn(tenant, agent, ['MailboxSettings.Read', ...sharedScopes]);
    expect((await graph.api('/me/mailboxSettings/userPurpose').get()).value).toBe('user');
    const denied = await errorOf(() => graph.api(`/users/${shared}/mailboxSettings`).get());
    expect([denied.statusCode, denied.code]).toEqual([403, 'ErrorAccessDenied']);
  });

  it('[D] opens a shared mailbox only with a .Shared scope and Full Access, and stops the moment Full Access is removed', async () => {
    const { tenant, shared, agent, customer } = await setUp();
    await endpoints.admin.deliver(tenant.tenantId, shared, { from: customer, subject: 'Invoice 42', body: 'wrong amount' });

    const ownOnly = await signedIn(tenant, agent, ownScopes);
    const withShared = await signedIn(tenant, agent, sharedScopes);
    const noFullAccess = await errorOf(() => inbox(withShared, shared));
    expect([noFullAccess.statusCode, noFullAccess.code]).toEqual([403, 'ErrorAccessDenied']);

    await endpoints.admin.grantMailboxPermission(tenant.tenantId, shared, { user: agent, accessRights: ['FullAccess'] });
    const noSharedScope = await errorOf(() => inbox(ownOnly, shared));
    expect([noSharedScope.statusCode, noSharedScope.code]).toEqual([403, 'ErrorAccessDenied']);
    const listed = await inbox(withShared, shared);
    expect(listed.value.map((message: { subject: string }) => message.subject)).toEqual(['Invoice 42']);
    // ".Shared": mail the user can access, including their own.
    expect((await withShared.api('/me/mailFolders/inbox/messages').get()).value).toEqual([]);

    expect((await endpoints.admin.mailboxPermissions(tenant.tenantId, shared)).value).toEqual([
      { user: agent, userId: expect.any(String), accessRights: ['FullAccess'] },
    ]);
    await endpoints.admin.revokeMailboxPermission(tenant.tenantId, shared, { user: agent, accessRights: ['FullAccess'] });
    const revoked = await errorOf(() => inbox(withShared, shared));
    expect([revoked.statusCode, revoked.code]).toEqual([403, 'ErrorAccessDenied']);
  });

  it('[F] a delegate with Send As replies from the shared address; the reply lands in the shared mailbox Sent Items', async () => {
    const { tenant, shared, agent, customer } = await setUp();
    const original = await endpoints.admin.deliver(tenant.tenantId, shared, {
      from: customer,
      subject: 'Refund',
      body: 'please',
    });
    await endpoints.admin.grantMailboxPermission(tenant.tenantId, shared, {
      user: agent,
      accessRights: ['FullAccess', 'SendAs'],
    });
    const graph = await signedIn(tenant, agent, sharedScopes);

    const draft = await graph.api(`/users/${shared}/messages/${original.id}/createReply`).post({});
    expect(draft.from.emailAddress.address).toBe(shared);
    await graph.api(`/users/${shared}/messages/${draft.id}/send`).post({});

    const received = (await endpoints.admin.folderMessages(tenant.tenantId, customer, 'inbox')).value;
    expect(received.map((message) => [message.subject, message.from])).toEqual([['RE: Refund', shared]]);
    const [sent] = (await endpoints.admin.sent(tenant.tenantId, shared)).value;
    expect([sent?.from.emailAddress.address, sent?.sender.emailAddress.address]).toEqual([shared, shared]);
    expect((await endpoints.admin.folderMessages(tenant.tenantId, shared, 'sentitems')).value.map((m) => m.subject)).toEqual([
      'RE: Refund',
    ]);
    expect((await endpoints.admin.folderMessages(tenant.tenantId, agent, 'sentitems')).value).toEqual([]);
  });

  it('[F] Send on Behalf: From is the shared address and Sender the delegate; without either right ErrorSendAsDenied', async () => {
    const { tenant, shared, agent, customer } = await setUp();
    await endpoints.admin.grantMailboxPermission(tenant.tenantId, shared, { user: agent, accessRights: ['FullAccess'] });
    const graph = await signedIn(tenant, agent, sharedScopes);
    const message = {
      subject: 'Hello',
      body: { contentType: 'text', content: 'hi' },
      toRecipients: [{ emailAddress: { address: customer } }],
    };

    const denied = await errorOf(() => graph.api(`/users/${shared}/sendMail`).post({ message }));
    expect([denied.statusCode, denied.code]).toEqual([403, 'ErrorSendAsDenied']);
    expect((await endpoints.admin.folderMessages(tenant.tenantId, shared, 'sentitems')).value).toEqual([]);

    await endpoints.admin.grantMailboxPermission(tenant.tenantId, shared, { user: agent, accessRights: ['SendOnBehalf'] });
    await graph.api(`/users/${shared}/sendMail`).post({ message });
    const [sent] = (await endpoints.admin.sent(tenant.tenantId, shared)).value;
    expect([sent?.from.emailAddress.address, sent?.sender.emailAddress.address]).toEqual([shared, agent]);
    const [delivered] = (await endpoints.admin.folderMessages(tenant.tenantId, customer, 'inbox')).value;
    expect(delivered?.from).toBe(shared);

    // Through /me with `from` set: saved in the signed-in user's Sent Items by default [F "Sent Items behavior"].
    await graph.api('/me/sendMail').post({ message: { ...message, from: { emailAddress: { address: shared } } } });
    expect((await endpoints.admin.folderMessages(tenant.tenantId, agent, 'sentitems')).value.map((m) => m.subject)).toEqual([
      'Hello',
    ]);
  });

  it('[F] an app with Mail.Send sends through the shared mailbox itself: From the shared address, saved in its Sent Items', async () => {
    const { tenant, shared, customer, app } = await setUp();
    const original = await endpoints.admin.deliver(tenant.tenantId, shared, { from: customer, subject: 'Order', body: 'where?' });
    await app.api(`/users/${shared}/messages/${original.id}/reply`).post({ comment: 'on its way' });
    const [sent] = (await endpoints.admin.sent(tenant.tenantId, shared)).value;
    expect([sent?.from.emailAddress.address, sent?.sender.emailAddress.address, sent?.inReplyTo]).toEqual([
      shared,
      shared,
      original.internetMessageId,
    ]);
    expect((await endpoints.admin.folderMessages(tenant.tenantId, shared, 'sentitems')).value.map((m) => m.subject)).toEqual([
      'RE: Order',
    ]);
  });

  it('[A] nobody signs in as a shared mailbox: its account is disabled (AADSTS50057)', async () => {
    const { tenant, shared } = await setUp();
    // The device-code flow by hand, to read Entra's answer as it is (MSAL reports it only as invalid_grant).
    const base = `${endpoints.baseUrl}/${tenant.tenantId}/oauth2/v2.0`;
    const form = (fields: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams(fields) });
    const code = (await (
      await fetch(`${base}/devicecode`, form({ client_id: tenant.app.clientId, scope: sharedScopes.join(' ') }))
    ).json()) as { device_code: string; user_code: string };
    await endpoints.admin.approveDeviceCode(code.user_code, shared);
    const answer = await fetch(
      `${base}/token`,
      form({
        client_id: tenant.app.clientId,
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: code.device_code,
      }),
    );
    const body = (await answer.json()) as { error: string; error_description: string; error_codes: number[] };
    expect([answer.status, body.error, body.error_codes]).toEqual([400, 'invalid_grant', [50057]]);
    expect(body.error_description).toMatch(/^AADSTS50057: The user account is disabled/);
  });

  it('refuses permission changes a real Exchange would refuse, naming the field', async () => {
    const { tenant, shared, agent } = await setUp();
    const self = await caught<{ status: number; message: string }>(() =>
      endpoints.admin.grantMailboxPermission(tenant.tenantId, agent, { user: agent, accessRights: ['FullAccess'] }),
    );
    expect(self.status).toBe(400);
    expect(self.message).toMatch(/user/);
    const sharedTrustee = await caught<{ status: number }>(() =>
      endpoints.admin.grantMailboxPermission(tenant.tenantId, agent, { user: shared, accessRights: ['SendAs'] }),
    );
    expect(sharedTrustee.status).toBe(400);
    const unknownRight = await caught<{ status: number }>(() =>
      endpoints.admin.grantMailboxPermission(tenant.tenantId, shared, { user: agent, accessRights: ['Owner' as 'SendAs'] }),
    );
    expect(unknownRight.status).toBe(400);
  });
});
