import type { Client, GraphError } from '@microsoft/microsoft-graph-client';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GraphSandbox, GraphSandboxEndpoints } from '../server';
import {
  caught,
  createAppGraphClient,
  createMsalClient,
  createTestTenant,
  startTestSandbox,
  type TestTenant,
} from '../testing/sandbox.fixture';

// Graph's change notifications for Outlook messages, as Microsoft Learn describes them:
// https://learn.microsoft.com/graph/change-notifications-delivery-webhooks (validation handshake, delivery),
// https://learn.microsoft.com/graph/change-notifications-lifecycle-events (lifecycle events),
// https://learn.microsoft.com/graph/api/resources/subscription (properties, maximum lifetime).
// The maximum lifetime of an Outlook message subscription is Microsoft's table "Maximum length of subscription per
// resource type" (https://learn.microsoft.com/graph/change-notifications-overview#subscription-lifetime, included in the
// subscription resource page): 4,230 minutes (under 3 days). Third-party notes quote 10,080 minutes from a later
// revision we could not read; 4,230 is the figure Microsoft's own text gives and works under either.

interface Received {
  url: URL;
  contentType: string;
  body: string;
}

/** An HTTPS subscriber on 127.0.0.1 that records every POST and answers as `answer` says. */
async function startSubscriber(
  tls: { cert: string; key: string },
  answer: (received: Received) => { status: number; body?: string; delayMs?: number } = (received) => {
    const token = received.url.searchParams.get('validationToken');
    return token === null ? { status: 202 } : { status: 200, body: token };
  },
): Promise<{ url: string; received: Received[]; notifications: () => Array<Record<string, unknown>>; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer(tls, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        url: new URL(request.url ?? '/', 'https://127.0.0.1'),
        contentType: String(request.headers['content-type'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(entry);
      const { status, body, delayMs } = answer(entry);
      setTimeout(() => response.writeHead(status, { 'content-type': 'text/plain' }).end(body ?? ''), delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/notifications`,
    received,
    notifications: () =>
      received
        .filter((entry) => !entry.url.searchParams.has('validationToken'))
        .flatMap((entry) => (JSON.parse(entry.body) as { value: Array<Record<string, unknown>> }).value),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('change notification subscriptions', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  let tls: { cert: string; key: string };
  const subscribers: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    // The subscriber reuses the sandbox's server certificate: it is issued by the sandbox's CA for 127.0.0.1.
    const certDir = await mkdtemp(path.join(tmpdir(), 'sandbox-subscriptions-'));
    ({ sandbox, endpoints } = await startTestSandbox({
      certDir,
      subscriptions: { validationTimeoutMs: 1_000, notificationRetryBaseMs: 50 },
    }));
    tls = {
      cert: await readFile(path.join(certDir, 'server.pem'), 'utf8'),
      key: await readFile(path.join(certDir, 'server-key.pem'), 'utf8'),
    };
  });
  afterAll(async () => {
    await Promise.all(subscribers.map((subscriber) => subscriber.close()));
    await sandbox.stop();
  });

  async function setUp(): Promise<{ tenant: TestTenant; graph: Client }> {
    const tenant = await createTestTenant(endpoints);
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    return { tenant, graph: createAppGraphClient(endpoints, msal) };
  }
  async function subscriber(answer?: Parameters<typeof startSubscriber>[1]) {
    const started = await startSubscriber(tls, answer);
    subscribers.push(started);
    return started;
  }
  const inHours = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();
  const body = (tenant: TestTenant, url: string, extra: Record<string, unknown> = {}) => ({
    changeType: 'created,updated',
    notificationUrl: url,
    lifecycleNotificationUrl: url,
    resource: `/users/${tenant.mailbox}/mailFolders('inbox')/messages`,
    expirationDateTime: inHours(24),
    clientState: 'secret-of-this-subscription',
    ...extra,
  });

  it('validates both URLs with a URL-encoded validationToken before creating, then posts a notification when mail arrives', async () => {
    const { tenant, graph } = await setUp();
    const receiver = await subscriber();
    const created = (await graph
      .api('/subscriptions')
      .header('Prefer', 'IdType="ImmutableId"')
      .post(body(tenant, receiver.url))) as Record<string, unknown>;
    expect(created).toMatchObject({
      changeType: 'created,updated',
      clientState: 'secret-of-this-subscription',
      applicationId: tenant.app.clientId,
    });
    const handshakes = receiver.received.filter((entry) => entry.url.searchParams.has('validationToken'));
    expect(handshakes).toHaveLength(2);
    expect(handshakes[0]?.contentType).toBe('text/plain; charset=utf-8');
    expect(handshakes[0]?.url.searchParams.get('validationToken')).toMatch(
      /^Validation: Testing client application reachability/,
    );

    const delivered = await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, {
      from: 'customer@example.org',
      subject: 'Where is my order?',
      body: 'Order 42',
    });
    await eventually(() => receiver.notifications().length === 1, 'the created notification');
    const [notification] = receiver.notifications();
    expect(notification).toMatchObject({
      subscriptionId: created['id'],
      changeType: 'created',
      clientState: 'secret-of-this-subscription',
      tenantId: tenant.tenantId,
      resourceData: { '@odata.type': '#Microsoft.Graph.Message', id: delivered.immutableId },
    });

    await graph.api(`/users/${tenant.mailbox}/messages/${delivered.immutableId}`).patch({ isRead: true });
    await eventually(() => receiver.notifications().length === 2, 'the updated notification');
    expect(receiver.notifications()[1]).toMatchObject({ changeType: 'updated' });
  });

  it('refuses a non-HTTPS URL, a wrong echo, an endpoint that does not answer in time and one that is unreachable', async () => {
    const { tenant, graph } = await setUp();
    const plain = await caught<GraphError>(() => graph.api('/subscriptions').post(body(tenant, 'http://127.0.0.1:9/hook')));
    expect(plain.statusCode).toBe(400);

    const wrongEcho = await subscriber(() => ({ status: 200, body: 'not the token' }));
    const mismatch = await caught<GraphError>(() => graph.api('/subscriptions').post(body(tenant, wrongEcho.url)));
    expect(mismatch).toMatchObject({ statusCode: 400, message: expect.stringMatching(/must exactly match validationToken/) });

    const slow = await subscriber((received) => ({
      status: 200,
      body: received.url.searchParams.get('validationToken') ?? '',
      delayMs: 3_000,
    }));
    const timedOut = await caught<GraphError>(() => graph.api('/subscriptions').post(body(tenant, slow.url)));
    expect(timedOut).toMatchObject({ statusCode: 400, message: 'Subscription validation request timed out.' });

    const closed = await subscriber();
    await closed.close();
    const unreachable = await caught<GraphError>(() => graph.api('/subscriptions').post(body(tenant, closed.url)));
    expect(unreachable).toMatchObject({ statusCode: 400, message: expect.stringMatching(/must respond with 200 OK/) });

    expect((await endpoints.subscriptions.list(tenant.tenantId)).value).toEqual([]);
  });

  it('limits the expiration to the Outlook maximum of 4,230 minutes, renews with PATCH and deletes with DELETE', async () => {
    const { tenant, graph } = await setUp();
    const receiver = await subscriber();
    const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
    for (const refused of [inMinutes(4_231), inMinutes(10_080)]) {
      const tooLong = await caught<GraphError>(() =>
        graph.api('/subscriptions').post(body(tenant, receiver.url, { expirationDateTime: refused })),
      );
      expect(tooLong).toMatchObject({
        statusCode: 400,
        message: 'Subscription expiration can only be 4230 minutes in the future.',
      });
    }
    const longest = (await graph
      .api('/subscriptions')
      .post(body(tenant, receiver.url, { expirationDateTime: inMinutes(4_229) }))) as {
      id: string;
    };
    await graph.api(`/subscriptions/${longest.id}`).delete();

    const created = (await graph.api('/subscriptions').post(body(tenant, receiver.url))) as { id: string };
    const renewedTo = inHours(48);
    const renewed = (await graph.api(`/subscriptions/${created.id}`).patch({ expirationDateTime: renewedTo })) as {
      expirationDateTime: string;
    };
    expect(Date.parse(renewed.expirationDateTime)).toBe(Date.parse(renewedTo));
    await graph.api(`/subscriptions/${created.id}`).delete();
    const gone = await caught<GraphError>(() => graph.api(`/subscriptions/${created.id}`).get());
    expect(gone.statusCode).toBe(404);
  });

  it('sends lifecycle events: reauthorizationRequired holds notifications until reauthorize; subscriptionRemoved deletes the subscription', async () => {
    const { tenant, graph } = await setUp();
    const receiver = await subscriber();
    const created = (await graph.api('/subscriptions').post(body(tenant, receiver.url))) as { id: string };

    await endpoints.subscriptions.signal(created.id, 'reauthorizationRequired');
    await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, { from: 'a@example.org', subject: 'paused', body: 'x' });
    const lifecycle = () => receiver.notifications().filter((item) => 'lifecycleEvent' in item);
    await eventually(() => lifecycle().length === 1, 'reauthorizationRequired');
    expect(lifecycle()[0]).toMatchObject({
      lifecycleEvent: 'reauthorizationRequired',
      clientState: 'secret-of-this-subscription',
    });
    await eventually(
      async () => (await endpoints.subscriptions.list(tenant.tenantId)).value.some((item) => item.heldNotifications === 1),
      'the change held while paused',
    );
    const created$ = () => receiver.notifications().filter((item) => item['changeType'] === 'created');
    expect(created$()).toHaveLength(0);
    await graph.api(`/subscriptions/${created.id}/reauthorize`).post({});
    await endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, { from: 'a@example.org', subject: 'resumed', body: 'y' });
    await eventually(() => created$().length === 2, 'the held change and the new one after reauthorize');

    await endpoints.subscriptions.signal(created.id, 'subscriptionRemoved');
    await eventually(() => lifecycle().length === 2, 'subscriptionRemoved');
    expect(lifecycle()[1]).toMatchObject({ lifecycleEvent: 'subscriptionRemoved', subscriptionId: created.id });
    expect((await caught<GraphError>(() => graph.api(`/subscriptions/${created.id}`).get())).statusCode).toBe(404);
  });

  it('drops, duplicates and forges notifications when a fault says so, and retries a subscriber that fails', async () => {
    const { tenant, graph } = await setUp();
    let failures = 1;
    const receiver = await subscriber((received) => {
      const token = received.url.searchParams.get('validationToken');
      if (token !== null) return { status: 200, body: token };
      return failures-- > 0 ? { status: 503 } : { status: 202 };
    });
    const created = (await graph.api('/subscriptions').post(body(tenant, receiver.url))) as { id: string };
    const deliver = (subject: string) =>
      endpoints.admin.deliver(tenant.tenantId, tenant.mailbox, { from: 'a@example.org', subject, body: subject });

    await deliver('retried');
    await eventually(() => receiver.notifications().length === 2, 'the retried notification');
    await endpoints.subscriptions.addFault({ kind: 'drop', subscriptionId: created.id, times: 1 });
    await deliver('dropped');
    await eventually(
      async () => (await endpoints.subscriptions.deliveries(created.id)).value.some((entry) => entry.outcome === 'dropped'),
      'the dropped delivery',
    );
    await endpoints.subscriptions.addFault({ kind: 'duplicate', subscriptionId: created.id, times: 1 });
    await deliver('duplicated');
    await eventually(() => receiver.notifications().length === 4, 'two copies');
    await endpoints.subscriptions.addFault({ kind: 'forgeClientState', subscriptionId: created.id, times: 1 });
    await deliver('forged');
    await eventually(() => receiver.notifications().length === 5, 'the forged notification');
    const states = receiver.notifications().map((item) => item['clientState']);
    expect(states.slice(0, 4)).toEqual(Array(4).fill('secret-of-this-subscription'));
    expect(states[4]).toMatch(/^forged-/);
  });
});
