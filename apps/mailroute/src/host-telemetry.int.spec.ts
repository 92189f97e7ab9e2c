import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { Metadata, createChannel, createClient } from 'nice-grpc';
import { InteractionOrder, InteractionRouterServiceDefinition } from '@mailroute/contracts';
import { demoProfile, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import {
  OtlpSpanKind,
  freePort,
  randomId,
  startOtlpCollector,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  type OtlpCollector,
  type ServiceProcess,
} from '@mailroute/testing';

// The all-in-one host (`npm start`) with OTEL_EXPORTER_OTLP_ENDPOINT set exports, under service.name
// `mailroute`, the spans of an e-mail's fetch: the Graph read and the MongoDB insert of its
// interaction. The MongoDB spans exist only if telemetry started before the driver was loaded.
// Real: the host process, the graph sandbox over HTTPS (a real tenant's configuration), FerretDB;
// the bus is the embedded one (no Kafka needed for the fetch).

// The demo directory's mailbox with the fewest seeded messages (3), which the host fetches first.
const mailbox = 'billing@contoso-demo.example';

describe('the all-in-one host with an OTLP endpoint', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  let collector: OtlpCollector;
  let host: ServiceProcess | undefined;
  let routerPort = 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-host-otel-'));
  const database = randomId('host-otel').replace(/[^A-Za-z0-9_-]/g, '_');

  beforeAll(async () => {
    ({ sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo' }));
    collector = await startOtlpCollector();
    routerPort = await freePort();
    const configFile = path.join(dir, 'mailroute.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        dataDir: 'data',
        ports: {
          authBroker: await freePort(),
          mailboxFetch: await freePort(),
          interactionRouter: routerPort,
          outboundSend: await freePort(),
          webGateway: await freePort(),
        },
        sandbox: { enabled: false },
        pollIntervalCapMs: 1000,
        store: { kind: 'mongodb', url: testInfra().mongoUrl, database },
        agentSignIn: { authorityHost: endpoints.baseUrl, audience: demoProfile.desktopClientId },
        tenants: [
          {
            id: 'demo',
            directoryId: demoProfile.tenantId,
            clientId: demoProfile.clientId,
            clientSecretEnv: 'CONTOSO_CLIENT_SECRET',
            clientSecretExpires: new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10),
            authorityHost: endpoints.baseUrl,
            graphEndpoint: endpoints.baseUrl,
            queues: [{ id: 'support' }],
            mailboxes: [{ id: 'billing', address: mailbox, queue: 'support' }],
            agents: [{ id: 'alice', upn: 'alice@contoso-demo.example', queues: ['support'], capacity: 5 }],
          },
        ],
      }),
    );
    host = startServiceProcess('apps/mailroute/src/main.ts', {
      MAILROUTE_CONFIG: configFile,
      NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
      CONTOSO_CLIENT_SECRET: demoProfile.clientSecret,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    });
    const running = host;
    await waitFor(() => running.output.some((line) => line.startsWith('mailroute: ready')) || running.child.exitCode !== null, {
      timeoutMs: 90_000,
      description: 'the host to be ready',
    });
    if (running.child.exitCode !== null) throw new Error(`the host exited:\n${running.output.join('\n')}`);
  }, 150_000);

  afterAll(async () => {
    await host?.stop('SIGTERM');
    await collector?.close();
    await sandbox?.stop();
    const client = await MongoClient.connect(testInfra().mongoUrl);
    await client
      .db(database)
      .dropDatabase()
      .catch(() => undefined);
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("exports an e-mail's fetch span with its Graph read and its MongoDB insert, as service mailroute", async () => {
    const tag = randomId('otel');
    await endpoints.admin.deliver(demoProfile.tenantId, mailbox, {
      from: 'carol@customer.example',
      subject: `Parcel ${tag}`,
      body: 'Where is it?',
    });
    const apiKey =
      (JSON.parse(readFileSync(path.join(dir, 'data', 'host-secrets.json'), 'utf8')) as { apiKeys: Record<string, string> })
        .apiKeys['demo'] ?? '';
    const channel = createChannel(`127.0.0.1:${routerPort}`);
    const router = createClient(InteractionRouterServiceDefinition, channel, {
      '*': { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) },
    });
    const interactionId = await waitFor(
      async () => {
        const page = await router.searchInteractions({
          page: { pageSize: 10, pageToken: '' },
          filter: { subjectContains: tag },
          order: InteractionOrder.INTERACTION_ORDER_UNSPECIFIED,
        });
        return page.interactions[0]?.interactionId;
      },
      // Generous for a loaded machine; usually a few seconds.
      { timeoutMs: 120_000, intervalMs: 500, description: 'the e-mail routed' },
    )
      .catch((error: unknown) => {
        throw new Error(
          `${String(error)} (${String((error as Error).cause)})\n${readFileSync(path.join(dir, 'data', 'mailroute.log'), 'utf8')
            .split('\n')
            .filter((line) => !line.includes('"grpc call"'))
            .slice(-40)
            .join('\n')}`,
          { cause: error },
        );
      })
      .finally(() => channel.close());

    // The batch span processor exports every few seconds.
    const root = await waitFor(
      () =>
        collector.spans.find(
          (span) => span.name === 'mailbox-fetch.email' && span.attributes['mailroute.interaction_id'] === interactionId,
        ),
      { timeoutMs: 30_000, intervalMs: 250, description: "the e-mail's fetch span" },
    );
    expect(root.service).toBe('mailroute');
    const children = () => collector.spans.filter((span) => span.traceId === root.traceId && span.parentSpanId === root.spanId);
    await waitFor(() => children().some((span) => span.scope.includes('mongodb')), {
      timeoutMs: 20_000,
      intervalMs: 250,
      description: "the interaction's MongoDB insert span",
    }).catch((error: unknown) => {
      throw new Error(
        `${String(error)}; children: ${JSON.stringify(children().map((span) => ({ scope: span.scope, name: span.name })))}`,
        { cause: error },
      );
    });
    const mongo = children().filter((span) => span.scope.includes('mongodb'));
    expect(
      mongo.some((span) => span.name.startsWith('insert ') && span.kind === OtlpSpanKind.client && span.service === 'mailroute'),
    ).toBe(true);
    // The Graph read of the message (Node's fetch, traced from undici's diagnostics channels).
    expect(
      children().some((span) => span.kind === OtlpSpanKind.client && span.name === 'GET' && span.service === 'mailroute'),
    ).toBe(true);
  });
});
