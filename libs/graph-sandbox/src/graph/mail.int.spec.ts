import { RetryHandlerOptions, type Client, type GraphError } from '@microsoft/microsoft-graph-client';
import type { GraphSandbox, GraphSandboxEndpoints } from '../server';
import {
  caught,
  createAppGraphClient,
  createGraphClient,
  createMsalClient,
  createTestTenant,
  graphDefaultScope,
  startTestSandbox,
  type TestTenant,
  required,
} from '../testing/sandbox.fixture';

describe('Graph mail endpoints against the sandbox (real Graph client over HTTPS)', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  let clockOffsetMs = 0;

  beforeAll(async () => {
    ({ sandbox, endpoints } = await startTestSandbox({ clock: () => Date.now() + clockOffsetMs }));
  });
  afterAll(() => sandbox.stop());
  afterEach(() => {
    clockOffsetMs = 0;
  });

  async function setUp(
    app: Parameters<typeof createTestTenant>[1] = {},
  ): Promise<{ tenant: TestTenant; graph: Client; token: () => Promise<string> }> {
    const tenant = await createTestTenant(endpoints, app);
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    const token = async () => required(await msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] })).accessToken;
    return { tenant, graph: createAppGraphClient(endpoints, msal), token };
  }

  it('lists the well-known folders, gets one by name and creates a child folder once', async () => {
    const { tenant, graph } = await setUp();
    const folders = await graph.api(`/users/${tenant.mailbox}/mailFolders`).top(50).get();
    expect(folders.value.map((folder: { displayName: string }) => folder.displayName)).toEqual(
      expect.arrayContaining(['Inbox', 'Sent Items', 'Deleted Items', 'Drafts']),
    );
    const inbox = await graph.api(`/users/${tenant.mailbox}/mailFolders/Inbox`).get();
    const child = await graph.api(`/users/${tenant.mailbox}/mailFolders/inbox/childFolders`).post({ displayName: 'Processed' });
    expect(child).toMatchObject({ displayName: 'Processed', parentFolderId: inbox.id });
    const again = await caught<GraphError>(() =>
      graph.api(`/users/${tenant.mailbox}/mailFolders/inbox/childFolders`).post({ displayName: 'processed' }),
    );
    expect(again.statusCode).toBe(409);
    expect(again.code).toBe('ErrorFolderExists');
  });

  it('lists messages with $select, $top, $orderby and $filter on receivedDateTime, paging by nextLink', async () => {
    const { tenant, graph } = await setUp();
    const base = Date.parse('2026-03-01T10:00:00Z');
    await endpoints.admin.deliverBulk(
      tenant.tenantId,
      tenant.mailbox,
      Array.from({ length: 7 }, (_, index) => ({
        from: `c${index}@customer.example`,
        subject: `mail ${index}`,
        receivedDateTime: new Date(base + index * 60_000).toISOString(),
      })),
    );
    const page = await graph
      .api(`/users/${tenant.mailbox}/mailFolders/inbox/messages`)
      .select('subject,receivedDateTime')
      .filter(`receivedDateTime ge ${new Date(base + 2 * 60_000).toISOString()}`)
      .orderby('receivedDateTime asc')
      .top(3)
      .get();
    expect(page.value.map((message: { subject: string }) => message.subject)).toEqual(['mail 2', 'mail 3', 'mail 4']);
    expect(Object.keys(page.value[0]).sort()).toEqual(['@odata.etag', 'id', 'receivedDateTime', 'subject']);
    const next = await graph.api(page['@odata.nextLink']).get();
    expect(next.value.map((message: { subject: string }) => message.subject)).toEqual(['mail 5', 'mail 6']);
    expect(next['@odata.nextLink']).toBeUndefined();
    const newest = await graph.api(`/users/${tenant.mailbox}/messages`).top(1).get();
    expect(newest.value[0].subject).toBe('mail 6');
    const bad = await caught<GraphError>(() => graph.api(`/users/${tenant.mailbox}/messages`).filter('nosuchprop eq 1').get());
    expect(bad.statusCode).toBe(400);
  });

  it('gets a message, marks it read, categorises it, and moves it (REST id changes, immutable id does not)', async () => {
    const { tenant, graph } = await setUp();
    await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, {
      from: 'ann@customer.example',
      subject: 'Help',
      body: '<p>hi</p>',
      bodyType: 'html',
    });
    const [listed] = (
      await graph.api(`/users/${tenant.mailbox}/mailFolders/inbox/messages`).header('Prefer', 'IdType="ImmutableId"').get()
    ).value;
    const immutableId: string = listed.id;
    const updated = await graph
      .api(`/users/${tenant.mailbox}/messages/${immutableId}`)
      .patch({ isRead: true, categories: ['mailroute/queued'] });
    expect(updated).toMatchObject({ isRead: true, categories: ['mailroute/queued'] });
    const text = await graph
      .api(`/users/${tenant.mailbox}/messages/${immutableId}`)
      .header('Prefer', 'outlook.body-content-type="text"')
      .select('body')
      .get();
    expect(text.body).toEqual({ contentType: 'text', content: 'hi' });
    const archive = await graph.api(`/users/${tenant.mailbox}/mailFolders/archive`).get();
    const restBefore = (await graph.api(`/users/${tenant.mailbox}/messages/${immutableId}`).get()).id;
    const moved = await graph.api(`/users/${tenant.mailbox}/messages/${restBefore}/move`).post({ destinationId: 'archive' });
    expect(moved.parentFolderId).toBe(archive.id);
    expect(moved.id).not.toBe(restBefore);
    const byImmutable = await graph
      .api(`/users/${tenant.mailbox}/messages/${immutableId}`)
      .header('Prefer', 'IdType="ImmutableId"')
      .get();
    expect(byImmutable).toMatchObject({ id: immutableId, parentFolderId: archive.id });
    expect((await caught<GraphError>(() => graph.api(`/users/${tenant.mailbox}/messages/${restBefore}`).get())).code).toBe(
      'ErrorItemNotFound',
    );
  });

  it('lists and downloads attachments and returns the MIME of a message', async () => {
    const { tenant, graph } = await setUp();
    const content = Buffer.from('%PDF-1.4 invoice');
    const delivered = await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, {
      from: 'ann@customer.example',
      subject: 'Invoice',
      attachments: [{ name: 'invoice.pdf', contentType: 'application/pdf', contentBase64: content.toString('base64') }],
    });
    const attachments = await graph.api(`/users/${tenant.mailbox}/messages/${delivered.id}/attachments`).get();
    expect(attachments.value).toHaveLength(1);
    expect(attachments.value[0]).toMatchObject({
      '@odata.type': '#microsoft.graph.fileAttachment',
      name: 'invoice.pdf',
      contentBytes: content.toString('base64'),
    });
    const one = await graph.api(`/users/${tenant.mailbox}/messages/${delivered.id}/attachments/${attachments.value[0].id}`).get();
    expect(one.name).toBe('invoice.pdf');
    const token = await createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, {
      clientSecret: tenant.secret.secretText,
    }).acquireTokenByClientCredential({ scopes: [graphDefaultScope] });
    const raw = await fetch(
      `${endpoints.baseUrl}/v1.0/users/${tenant.mailbox}/messages/${delivered.id}/attachments/${attachments.value[0].id}/$value`,
      {
        headers: { authorization: `Bearer ${required(token).accessToken}` },
      },
    );
    expect(Buffer.from(await raw.arrayBuffer())).toEqual(content);
    const mime = await fetch(`${endpoints.baseUrl}/v1.0/users/${tenant.mailbox}/messages/${delivered.id}/$value`, {
      headers: { authorization: `Bearer ${required(token).accessToken}` },
    });
    const text = await mime.text();
    expect(text).toMatch(/^Received: /);
    expect(text).toContain(`Message-ID: ${delivered.internetMessageId}`);
    expect(text).toContain('filename="invoice.pdf"');
  });

  it("threads a reply into the customer's conversation and the customer's answer back into it", async () => {
    const { tenant, graph } = await setUp();
    const inbound = await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, {
      from: { name: 'Ann', address: 'ann@customer.example' },
      subject: 'Order 42 missing',
    });
    await graph.api(`/users/${tenant.mailbox}/messages/${inbound.id}/reply`).post({ comment: 'We are on it.' });
    const sent = (await endpoints.admin.sent(tenant.tenantId, tenant.mailbox)).value;
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      via: 'reply',
      subject: 'RE: Order 42 missing',
      conversationId: inbound.conversationId,
      inReplyTo: inbound.internetMessageId,
    });
    expect(required(sent[0]).toRecipients).toEqual([{ emailAddress: { name: 'Ann', address: 'ann@customer.example' } }]);
    const [copy] = (await graph.api(`/users/${tenant.mailbox}/mailFolders/sentitems/messages`).get()).value;
    expect(copy.conversationId).toBe(inbound.conversationId);
    const answer = await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, {
      from: 'ann@customer.example',
      subject: 'RE: Order 42 missing',
      inReplyTo: required(sent[0]).internetMessageId,
    });
    expect(answer.conversationId).toBe(inbound.conversationId);
    const thread = await graph
      .api(`/users/${tenant.mailbox}/messages`)
      .filter(`conversationId eq '${inbound.conversationId}'`)
      .get();
    expect(thread.value).toHaveLength(3);
  });

  it('creates a reply draft, lets it be edited, and sends it (202) into Sent Items', async () => {
    const { tenant, graph } = await setUp();
    const inbound = await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, {
      from: 'bob@customer.example',
      subject: 'Refund',
      cc: ['carol@customer.example'],
    });
    const draft = await graph
      .api(`/users/${tenant.mailbox}/messages/${inbound.id}/createReplyAll`)
      .post({ comment: 'draft text' });
    expect(draft).toMatchObject({ isDraft: true, conversationId: inbound.conversationId, subject: 'RE: Refund' });
    expect(draft.ccRecipients).toEqual([{ emailAddress: { address: 'carol@customer.example' } }]);
    await graph
      .api(`/users/${tenant.mailbox}/messages/${draft.id}`)
      .patch({ body: { contentType: 'html', content: '<p>Refund approved.</p>' } });
    const response = await graph
      .api(`/users/${tenant.mailbox}/messages/${draft.id}/send`)
      .responseType('raw' as never)
      .post(null);
    expect((response as unknown as Response).status).toBe(202);
    const sent = (await endpoints.admin.sent(tenant.tenantId, tenant.mailbox)).value;
    expect(sent[0]).toMatchObject({
      via: 'send',
      conversationId: inbound.conversationId,
      body: { contentType: 'html', content: '<p>Refund approved.</p>' },
    });
    const sentItems = await endpoints.admin.folderMessages(tenant.tenantId, tenant.mailbox, 'sentitems');
    expect(sentItems.value.map((message) => message.isDraft)).toEqual([false]);
    expect((await endpoints.admin.folderMessages(tenant.tenantId, tenant.mailbox, 'drafts')).value).toEqual([]);
  });

  it('round-trips custom x- headers through sendMail and refuses other custom headers', async () => {
    const { tenant, graph } = await setUp();
    const colleague = `ops@${tenant.domain}`;
    await endpoints.admin.createMailbox(tenant.tenantId, { userPrincipalName: colleague });
    await graph.api(`/users/${tenant.mailbox}/sendMail`).post({
      message: {
        subject: 'Tracking',
        body: { contentType: 'text', content: 'see headers' },
        toRecipients: [{ emailAddress: { address: colleague } }],
        internetMessageHeaders: [{ name: 'x-mailroute-interaction', value: 'int-123' }],
      },
      saveToSentItems: false,
    });
    const [received] = (
      await graph.api(`/users/${colleague}/mailFolders/inbox/messages`).select('subject,internetMessageHeaders').get()
    ).value;
    expect(received.internetMessageHeaders).toEqual(
      expect.arrayContaining([{ name: 'x-mailroute-interaction', value: 'int-123' }]),
    );
    expect((await endpoints.admin.folderMessages(tenant.tenantId, tenant.mailbox, 'sentitems')).value).toEqual([]);
    const refused = await caught<GraphError>(() =>
      graph.api(`/users/${tenant.mailbox}/sendMail`).post({
        message: {
          subject: 'x',
          toRecipients: [{ emailAddress: { address: colleague } }],
          internetMessageHeaders: [{ name: 'In-Reply-To', value: '<a@b>' }],
        },
      }),
    );
    expect(refused.statusCode).toBe(400);
    expect(refused.code).toBe('InvalidInternetMessageHeader');
    expect(refused.message).toBe("The internet message header name 'In-Reply-To' should start with 'x-' or 'X-'.");
    expect((await endpoints.admin.sent(tenant.tenantId, tenant.mailbox)).value).toHaveLength(1);
  });

  it('answers an unknown mailbox with 404 ErrorInvalidUser', async () => {
    const { tenant, graph } = await setUp();
    const error = await caught<GraphError>(() => graph.api(`/users/nobody@${tenant.domain}/messages`).get());
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('ErrorInvalidUser');
    expect(error.message).toBe(`The requested user 'nobody@${tenant.domain}' is invalid.`);
  });

  it('answers a mailbox outside the application access policy with 403 "Access to OData is disabled."', async () => {
    const { tenant, graph } = await setUp();
    const other = `private@${tenant.domain}`;
    await endpoints.admin.createMailbox(tenant.tenantId, { userPrincipalName: other });
    await endpoints.admin.createAccessPolicy(tenant.tenantId, {
      appId: tenant.app.clientId,
      accessRight: 'RestrictAccess',
      policyScopeGroupId: `routed@${tenant.domain}`,
      members: [tenant.mailbox],
    });
    expect((await endpoints.admin.testAccessPolicy(tenant.tenantId, tenant.app.clientId, other)).accessCheckResult).toBe(
      'Denied',
    );
    const error = await caught<GraphError>(() => graph.api(`/users/${other}/mailFolders/inbox/messages`).get());
    expect(error.statusCode).toBe(403);
    expect(error.code).toBe('ErrorAccessDenied');
    expect(error.message).toBe('Access to OData is disabled.');
    expect((await graph.api(`/users/${tenant.mailbox}/mailFolders/inbox/messages`).get()).value).toEqual([]);
  });

  it('answers 401 InvalidAuthenticationToken for a missing, malformed or expired token', async () => {
    const { tenant, token } = await setUp();
    const url = `${endpoints.baseUrl}/v1.0/users/${tenant.mailbox}/messages`;
    const missing = await fetch(url);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await missing.json()).toMatchObject({
      error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty.' },
    });
    const malformed = await fetch(url, { headers: { authorization: 'Bearer not-a-jwt' } });
    expect(malformed.status).toBe(401);
    const valid = await token();
    clockOffsetMs = 2 * 3600_000;
    const expired = await fetch(url, { headers: { authorization: `Bearer ${valid}` } });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({
      error: { code: 'InvalidAuthenticationToken', message: 'Lifetime validation failed, the token is expired.' },
    });
  });

  it('answers 403 for Mail.Send endpoints when only Mail.ReadWrite is granted', async () => {
    const { tenant, graph } = await setUp({ applicationPermissions: ['Mail.ReadWrite'] });
    const error = await caught<GraphError>(() =>
      graph
        .api(`/users/${tenant.mailbox}/sendMail`)
        .middlewareOptions([new RetryHandlerOptions(0, 0)])
        .post({ message: { subject: 's', toRecipients: [{ emailAddress: { address: 'a@customer.example' } }] } }),
    );
    expect(error.statusCode).toBe(403);
    expect(error.code).toBe('ErrorAccessDenied');
  });

  it('serves /me only for delegated tokens', async () => {
    const { tenant } = await setUp();
    const graph = createGraphClient(
      endpoints,
      async () =>
        required(
          await createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, {
            clientSecret: tenant.secret.secretText,
          }).acquireTokenByClientCredential({ scopes: [graphDefaultScope] }),
        ).accessToken,
    );
    const error = await caught<GraphError>(() => graph.api('/me/messages').get());
    expect(error.statusCode).toBe(400);
  });
});
