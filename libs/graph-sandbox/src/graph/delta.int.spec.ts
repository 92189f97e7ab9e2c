import { PageIterator, RetryHandlerOptions, type Client, type GraphError } from '@microsoft/microsoft-graph-client';
import type { GraphSandbox, GraphSandboxEndpoints } from '../server';
import {
  caught,
  createAppGraphClient,
  createMsalClient,
  createTestTenant,
  startTestSandbox,
  type TestTenant,
  required,
} from '../testing/sandbox.fixture';

type DeltaItem = { id: string; subject?: string; isRead?: boolean; '@removed'?: { reason: string } };

describe('messages delta against the sandbox (real Graph client PageIterator)', () => {
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

  /** One full delta round from `start` (a URL) with the SDK's PageIterator: every item and the final deltaLink. */
  async function round(graph: Client, start: string, pageSize = 3): Promise<{ items: DeltaItem[]; deltaLink: string }> {
    const headers = { Prefer: `odata.maxpagesize=${pageSize}, IdType="ImmutableId"` };
    const first = await graph.api(start).headers(headers).get();
    const items: DeltaItem[] = [];
    const iterator = new PageIterator(
      graph,
      first,
      (item: DeltaItem) => {
        items.push(item);
        return true;
      },
      { headers },
    );
    await iterator.iterate();
    const deltaLink = iterator.getDeltaLink();
    if (!deltaLink) throw new Error('no deltaLink at the end of the round');
    return { items, deltaLink };
  }

  it('syncs a folder page by page, then reports new, changed and removed messages in the next round', async () => {
    const { tenant, graph } = await setUp();
    const delivered = (
      await endpoints.admin.deliverBulk(
        tenant.tenantId,
        tenant.mailbox,
        Array.from({ length: 8 }, (_, index) => ({ from: 'c@customer.example', subject: `m${index}` })),
      )
    ).value;
    const initial = await round(graph, `/users/${tenant.mailbox}/mailFolders/inbox/messages/delta?$select=subject,isRead`);
    expect(initial.items.map((item) => item.subject).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    expect(
      initial.items.every((item) =>
        Object.keys(item).every((key) => ['@odata.type', '@odata.etag', 'id', 'subject', 'isRead'].includes(key)),
      ),
    ).toBe(true);

    const unchanged = await round(graph, initial.deltaLink);
    expect(unchanged.items).toEqual([]);

    await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, { from: 'c@customer.example', subject: 'new one' });
    await graph.api(`/users/${tenant.mailbox}/messages/${required(delivered[1]).id}`).patch({ isRead: true });
    await graph.api(`/users/${tenant.mailbox}/messages/${required(delivered[2]).id}/move`).post({ destinationId: 'archive' });
    await endpoints.admin.deleteMessage(tenant.tenantId, tenant.mailbox, required(delivered[3]).id);

    const changes = await round(graph, unchanged.deltaLink);
    const bySubject = new Map(changes.items.filter((item) => item.subject).map((item) => [item.subject, item]));
    expect([...bySubject.keys()].sort()).toEqual(['m1', 'new one']);
    expect(bySubject.get('m1')?.isRead).toBe(true);
    const removed = changes.items.filter((item) => item['@removed']);
    expect(removed.map((item) => item.id).sort()).toEqual(
      [required(delivered[2]).immutableId, required(delivered[3]).immutableId].sort(),
    );
    expect(removed.every((item) => item['@removed']?.reason === 'deleted')).toBe(true);
  });

  it('returns @odata.nextLink pages of at most odata.maxpagesize and says so in Preference-Applied', async () => {
    const { tenant } = await setUp();
    await endpoints.admin.deliverBulk(
      tenant.tenantId,
      tenant.mailbox,
      Array.from({ length: 5 }, (_, index) => ({ from: 'c@customer.example', subject: `p${index}` })),
    );
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    const token = required(
      await msal.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }),
    ).accessToken;
    const response = await fetch(`${endpoints.baseUrl}/v1.0/users/${tenant.mailbox}/mailFolders/inbox/messages/delta`, {
      headers: { authorization: `Bearer ${token}`, prefer: 'odata.maxpagesize=2' },
    });
    expect(response.headers.get('preference-applied')).toContain('odata.maxpagesize=2');
    const body = (await response.json()) as { value: unknown[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
    expect(body.value).toHaveLength(2);
    expect(body['@odata.nextLink']).toMatch(new RegExp(`^${endpoints.baseUrl}/v1\\.0/users/.+/messages/delta\\?\\$skiptoken=`));
    expect(body['@odata.deltaLink']).toBeUndefined();
  });

  it("applies the first request's $filter on receivedDateTime to every later round", async () => {
    const { tenant, graph } = await setUp();
    await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, {
      from: 'c@customer.example',
      subject: 'old',
      receivedDateTime: '2020-01-01T00:00:00Z',
    });
    await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, {
      from: 'c@customer.example',
      subject: 'recent',
      receivedDateTime: '2026-06-01T00:00:00Z',
    });
    const first = await round(
      graph,
      `/users/${tenant.mailbox}/mailFolders/inbox/messages/delta?$filter=receivedDateTime ge 2025-01-01T00:00:00Z`,
    );
    expect(first.items.map((item) => item.subject)).toEqual(['recent']);
    await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, {
      from: 'c@customer.example',
      subject: 'older still',
      receivedDateTime: '2019-01-01T00:00:00Z',
    });
    expect((await round(graph, first.deltaLink)).items).toEqual([]);
    const refused = await caught<GraphError>(() =>
      graph.api(`/users/${tenant.mailbox}/mailFolders/inbox/messages/delta`).filter('isRead eq false').get(),
    );
    expect(refused.statusCode).toBe(400);
  });

  it('answers an expired delta token with 410 SyncStateNotFound, and a full resync then works', async () => {
    const { tenant, graph } = await setUp();
    await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, { from: 'c@customer.example', subject: 'a' });
    const first = await round(graph, `/users/${tenant.mailbox}/mailFolders/inbox/messages/delta`);
    await endpoints.admin.expireDeltaTokens(tenant.tenantId, tenant.mailbox);
    const error = await caught<GraphError>(() =>
      graph
        .api(first.deltaLink)
        .middlewareOptions([new RetryHandlerOptions(0, 0)])
        .get(),
    );
    expect(error.statusCode).toBe(410);
    expect(error.code).toBe('SyncStateNotFound');
    expect(error.message).toMatch(/The sync state generation is not found/);
    const resync = await round(graph, `/users/${tenant.mailbox}/mailFolders/inbox/messages/delta`);
    expect(resync.items.map((item) => item.subject)).toEqual(['a']);
  });

  it('answers a tampered delta token with 410 resyncRequired and a Location to start over', async () => {
    const { tenant, graph } = await setUp();
    const first = await round(graph, `/users/${tenant.mailbox}/mailFolders/inbox/messages/delta`);
    const tampered = first.deltaLink.replace(
      /\$deltatoken=d1\.(.)/,
      (_match, char: string) => `$deltatoken=d1.${char === 'A' ? 'B' : 'A'}`,
    );
    const error = await caught<GraphError>(() => graph.api(tampered).get());
    expect(error.statusCode).toBe(410);
    expect(error.code).toBe('resyncRequired');
    expect(error.headers?.get('location')).toMatch(/\/mailFolders\/inbox\/messages\/delta$/);
  });
});
