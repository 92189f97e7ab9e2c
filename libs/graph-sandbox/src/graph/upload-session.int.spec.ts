import { randomBytes } from 'node:crypto';
import { ResponseType, type Client, type GraphError } from '@microsoft/microsoft-graph-client';
import type { GraphSandbox, GraphSandboxEndpoints } from '../server';
import {
  caught,
  createAppGraphClient,
  createMsalClient,
  createTestTenant,
  startTestSandbox,
  type TestTenant,
} from '../testing/sandbox.fixture';

describe('attachment upload sessions and send-time checks (real Graph client over HTTPS)', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;

  beforeAll(async () => {
    ({ sandbox, endpoints } = await startTestSandbox());
  });
  afterAll(() => sandbox.stop());

  async function setUp(): Promise<{ tenant: TestTenant; graph: Client }> {
    const tenant = await createTestTenant(endpoints);
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    return { tenant, graph: createAppGraphClient(endpoints, msal) };
  }

  const put = (url: string, body: Buffer, range: string, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': range, ...headers },
      body,
    });

  it('takes a large attachment in ordered chunks through the upload URL and sends it', async () => {
    const { tenant, graph } = await setUp();
    const draft = await graph
      .api(`/users/${tenant.mailbox}/messages`)
      .post({ subject: 'Big file', toRecipients: [{ emailAddress: { address: 'ann@customer.example' } }] });
    const content = randomBytes(4_000_000);
    const session = await graph
      .api(`/users/${tenant.mailbox}/messages/${draft.id}/attachments/createUploadSession`)
      .post({ AttachmentItem: { attachmentType: 'file', name: 'big.bin', size: content.length } });
    expect(session).toMatchObject({ uploadUrl: expect.stringContaining('/upload-sessions/'), nextExpectedRanges: ['0-'] });

    expect(
      (await put(session.uploadUrl, content.subarray(0, 10), 'bytes 0-9/4000000', { Authorization: 'Bearer x' })).status,
    ).toBe(401);
    expect((await put(session.uploadUrl, content.subarray(10, 20), 'bytes 10-19/4000000')).status).toBe(416);
    const first = await put(session.uploadUrl, content.subarray(0, 3_276_800), 'bytes 0-3276799/4000000');
    expect(first.status).toBe(200);
    expect(((await first.json()) as { nextExpectedRanges: string[] }).nextExpectedRanges).toEqual(['3276800-']);
    expect((await put(session.uploadUrl, content.subarray(3_276_800), 'bytes 3276800-3999999/4000000')).status).toBe(201);
    expect((await put(session.uploadUrl, content.subarray(0, 1), 'bytes 0-0/4000000')).status).toBe(404);

    const attachments = await graph.api(`/users/${tenant.mailbox}/messages/${draft.id}/attachments`).get();
    expect(attachments.value.map((attachment: { name: string }) => attachment.name)).toEqual(['big.bin']);
    const stored = await graph
      .api(`/users/${tenant.mailbox}/messages/${draft.id}/attachments/${attachments.value[0].id}/$value`)
      .responseType(ResponseType.ARRAYBUFFER)
      .get();
    expect(Buffer.from(stored as ArrayBuffer).equals(content)).toBe(true);
    await graph.api(`/users/${tenant.mailbox}/messages/${draft.id}/send`).post({});
    const [sent] = (await endpoints.admin.sent(tenant.tenantId, tenant.mailbox)).value;
    expect(sent?.attachments).toEqual([{ name: 'big.bin', contentType: 'application/octet-stream', size: 4_000_000 }]);
  });

  it("refuses a send over the mailbox's MaxSendSize and to an unresolvable address in a sandbox domain", async () => {
    const { tenant, graph } = await setUp();
    const small = `small@${tenant.domain}`;
    await endpoints.admin.createMailbox(tenant.tenantId, { userPrincipalName: small, maxSendSizeBytes: 1_000 });
    const tooBig = await caught<GraphError>(() =>
      graph.api(`/users/${small}/sendMail`).post({
        message: {
          subject: 's',
          body: { contentType: 'text', content: 'x'.repeat(2_000) },
          toRecipients: [{ emailAddress: { address: 'ann@customer.example' } }],
        },
      }),
    );
    expect([tooBig.statusCode, tooBig.code]).toEqual([400, 'ErrorMessageSizeExceeded']);
    const unresolved = await caught<GraphError>(() =>
      graph.api(`/users/${tenant.mailbox}/sendMail`).post({
        message: {
          subject: 's',
          body: { contentType: 'text', content: 'x' },
          toRecipients: [{ emailAddress: { address: `nobody@${tenant.domain}` } }],
        },
      }),
    );
    expect([unresolved.statusCode, unresolved.code]).toEqual([400, 'ErrorInvalidRecipients']);
    expect((await endpoints.admin.sent(tenant.tenantId, small)).value).toHaveLength(0);
  });
});
