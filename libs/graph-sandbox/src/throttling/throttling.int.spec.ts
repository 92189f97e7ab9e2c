import { RetryHandlerOptions, type Client, type GraphError } from '@microsoft/microsoft-graph-client';
import type { GraphSandbox, GraphSandboxEndpoints } from '../server';
import {
  caught,
  createAppGraphClient,
  createMsalClient,
  createTestTenant,
  graphDefaultScope,
  startTestSandbox,
  type TestTenant,
  required,
} from '../testing/sandbox.fixture';

describe('throttling and fault injection', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;

  beforeAll(async () => {
    ({ sandbox, endpoints } = await startTestSandbox());
  });
  afterAll(() => sandbox.stop());

  async function setUp(): Promise<{ tenant: TestTenant; graph: Client; token: string }> {
    const tenant = await createTestTenant(endpoints);
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    const token = required(await msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] })).accessToken;
    return { tenant, graph: createAppGraphClient(endpoints, msal), token };
  }

  const noRetry = [new RetryHandlerOptions(0, 0)];

  it('refuses a fifth concurrent request on one mailbox with 429 and Retry-After, and leaves other mailboxes alone', async () => {
    const { tenant, graph } = await setUp();
    const other = `other@${tenant.domain}`;
    await endpoints.admin.createMailbox(tenant.tenantId, { userPrincipalName: other });
    // Hold every request on the support mailbox for a while so five overlap.
    await endpoints.admin.addFault({ mailbox: tenant.mailbox, latency: { distribution: 'fixed', ms: 400 } });
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () =>
        graph
          .api(`/users/${tenant.mailbox}/mailFolders/inbox/messages`)
          .middlewareOptions(noRetry)
          .get()
          .then(
            () => ({ status: 200, retryAfter: null as string | null, code: '' }),
            (error: GraphError) => ({
              status: error.statusCode,
              retryAfter: error.headers?.get('retry-after') ?? null,
              code: error.code ?? '',
            }),
          ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 200)).toHaveLength(4);
    const throttled = outcomes.filter((outcome) => outcome.status === 429);
    expect(throttled).toHaveLength(1);
    expect(throttled[0]).toMatchObject({ code: 'ApplicationThrottled', retryAfter: '1' });
    expect((await graph.api(`/users/${other}/mailFolders/inbox/messages`).middlewareOptions(noRetry).get()).value).toEqual([]);
    expect((await endpoints.admin.stats(tenant.tenantId)).throttled).toBe(1);
    await endpoints.admin.clearFaults();
  });

  it('refuses requests over the per-window budget with 429 and a Retry-After until the window passes', async () => {
    const { tenant, graph } = await setUp();
    await endpoints.admin.setThrottling(tenant.tenantId, { requestsPerWindow: 3, windowSeconds: 600 });
    for (let index = 0; index < 3; index += 1)
      await graph.api(`/users/${tenant.mailbox}/messages`).middlewareOptions(noRetry).get();
    const error = await caught<GraphError>(() => graph.api(`/users/${tenant.mailbox}/messages`).middlewareOptions(noRetry).get());
    expect(error.statusCode).toBe(429);
    expect(error.message).toBe('Application is over its MailboxRequests limit.');
    const retryAfter = Number(error.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(590);
    expect(retryAfter).toBeLessThanOrEqual(610);
  });

  it('injects a 503 with Retry-After that the Graph client retries through', async () => {
    const { tenant, graph } = await setUp();
    await endpoints.admin.addFault({
      tenantId: tenant.tenantId,
      endpoint: 'messages.list',
      status: 503,
      retryAfterSeconds: 0,
      times: 1,
    });
    const list = await graph.api(`/users/${tenant.mailbox}/messages`).get();
    expect(list.value).toEqual([]);
    expect((await endpoints.admin.stats(tenant.tenantId)).graphRequestsByEndpoint['messages.list']).toBe(2);
  });

  it('injects a 504 for one endpoint only', async () => {
    const { tenant, graph } = await setUp();
    await endpoints.admin.addFault({ tenantId: tenant.tenantId, endpoint: 'messages.delta', status: 504 });
    const error = await caught<GraphError>(() =>
      graph.api(`/users/${tenant.mailbox}/mailFolders/inbox/messages/delta`).middlewareOptions(noRetry).get(),
    );
    expect(error.statusCode).toBe(504);
    expect((await graph.api(`/users/${tenant.mailbox}/messages`).middlewareOptions(noRetry).get()).value).toEqual([]);
    await endpoints.admin.clearFaults();
  });

  it('drops the connection when asked', async () => {
    const { tenant, token } = await setUp();
    await endpoints.admin.addFault({ tenantId: tenant.tenantId, drop: true, times: 1 });
    const error = await caught<Error>(() =>
      fetch(`${endpoints.baseUrl}/v1.0/users/${tenant.mailbox}/messages`, { headers: { authorization: `Bearer ${token}` } }),
    );
    // fetch's TypeError comes from another realm under jest, so compare by name and message.
    expect(error).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    const after = await fetch(`${endpoints.baseUrl}/v1.0/users/${tenant.mailbox}/messages`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(after.status).toBe(200);
  });

  it('adds latency from a distribution', async () => {
    const { tenant, token } = await setUp();
    await endpoints.admin.addFault({
      tenantId: tenant.tenantId,
      latency: { distribution: 'uniform', minMs: 150, maxMs: 200 },
      times: 1,
    });
    const started = performance.now();
    await fetch(`${endpoints.baseUrl}/v1.0/users/${tenant.mailbox}/messages`, { headers: { authorization: `Bearer ${token}` } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });
});
