import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AgentPresence,
  InteractionOrder,
  InteractionRouterServiceDefinition,
  OutgoingMessage,
  ReplyMode,
  type Interaction,
} from '@mailroute/contracts';
import { demoProfile, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { createGrpcClient } from '@mailroute/platform';
import {
  OtlpSpanKind,
  freePort,
  startDedicatedKafka,
  startOtlpCollector,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  waitForServing,
  type CollectedSpan,
  type DedicatedKafka,
  type OtlpCollector,
  type ServiceProcess,
  workspaceRoot,
} from '@mailroute/testing';
import {
  dispatchDesktopUpdate,
  dropFleetDatabases,
  newFleetTenant,
  registerFleetTenant,
  serviceEnvironment,
  serviceOrder as order,
  signInDesktop,
  withProcessOutput,
  writeProcessLogs,
  type ServiceName,
} from './testing/service-fleet';

/**
 * One trace follows an e-mail through all four services, as an operator's collector receives it:
 * the services run as real processes (their main.ts) exporting OTLP/HTTP protobuf to a collector in
 * this test, which decodes what it receives. An agent on a desktop stream accepts the offer and
 * replies; the reply goes out through Graph. The trace must link, by spanId/parentSpanId:
 *
 *   mailbox-fetch  mailbox-fetch.email (root) ─┬─ GET (Graph message read, fetch client span)
 *                                               └─ inbound-email publish (producer)
 *   interaction-router  inbound-email process (consumer) ─┬─ mongodb commands
 *                                                          └─ interaction-router.reply (linked with the Reply call)
 *                                                              └─ outbound-request publish (producer)
 *   outbound-send  outbound-request process (consumer) → outbound-send.attempt → POST …/send (Graph)
 *
 * Real: the graph sandbox over HTTPS (Entra ID + Graph; MSAL in auth-broker; agent sign-in by device
 * code), FerretDB, and a Kafka broker of this test's own (a new consumer group on the shared broker
 * would read every earlier suite's events).
 */
/**
 * Both ways a service starts: these two from the production build (the esbuild bundle the images
 * run, `node main.js`), the other two from main.ts on tsx (development, the other suites); the
 * instrumentations (mongodb, fetch) are asserted in services of both kinds.
 */
const fromProductionBuild: readonly ServiceName[] = ['interaction-router', 'outbound-send'];
const buildDir = path.join(workspaceRoot, 'tmp', `trace-test-${randomBytes(4).toString('hex')}`);

/** `node main.js` of a production build (its npm packages resolve from the workspace's node_modules). */
function startBuiltService(service: ServiceName, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [path.join(buildDir, service, 'main.js')], {
    cwd: workspaceRoot,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer): void =>
    void output.push(
      ...chunk
        .toString()
        .split('\n')
        .filter((line) => line.length > 0),
    );
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output,
    exited,
    port: () => Promise.reject(new Error('not used')),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

const mailbox = demoProfile.routedMailboxes[0] ?? '';
const agent = { id: 'alice', upn: 'alice@contoso-demo.example' };

describe('one trace across all four services', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  let kafka: DedicatedKafka | undefined;
  let collector: OtlpCollector;
  const running = new Map<ServiceName, ServiceProcess>();
  const address = new Map<ServiceName, string>();
  const tenant = newFleetTenant('trace');
  const agentStop = new AbortController();

  beforeAll(async () => {
    const started = performance.now();
    const kafkaStarting = startDedicatedKafka();
    const build = spawnSync(
      process.execPath,
      [path.join(workspaceRoot, 'tools', 'build', 'build-service.mjs'), '--out-dir', buildDir, ...fromProductionBuild],
      { cwd: workspaceRoot, encoding: 'utf8' },
    );
    if (build.status !== 0) throw new Error(`production build failed: ${build.stderr}`);
    collector = await startOtlpCollector();
    ({ sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo', deviceCodeIntervalSeconds: 1 }));
    const { mongoUrl } = testInfra();
    for (const service of order) address.set(service, `127.0.0.1:${await freePort()}`);
    const port = (service: ServiceName) => (address.get(service) ?? '').split(':')[1] ?? '0';
    const common = (service: ServiceName) => ({
      GRPC_PORT: port(service),
      LOG_LEVEL: 'info',
      NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      // Export within a fraction of a second instead of the default 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    const env = (service: ServiceName, brokers: string): Record<string, string> =>
      serviceEnvironment(service, {
        tenant,
        endpoints,
        mongoUrl,
        brokers,
        authBrokerAddress: address.get('auth-broker') ?? '',
        common: common(service),
      });
    const start = (service: ServiceName, brokers: string) => {
      const variables = env(service, brokers);
      running.set(
        service,
        fromProductionBuild.includes(service)
          ? startBuiltService(service, variables)
          : startServiceProcess(`apps/${service}/src/main.ts`, variables),
      );
    };
    // auth-broker needs no Kafka: it starts while the broker does.
    start('auth-broker', '');
    kafka = await kafkaStarting;
    const kafkaMs = Math.round(performance.now() - started);
    for (const service of order) if (service !== 'auth-broker') start(service, kafka.brokers);
    const servingMs: Record<string, number> = {};
    await Promise.all(
      order.map((service) =>
        waitForServing(address.get(service) ?? '', { timeoutMs: 120_000 }).then(
          () => void (servingMs[service] = Math.round(performance.now() - started)),
          (error: unknown) => fail(service, error),
        ),
      ),
    );
    if (process.env['TRACE_TEST_REPORT'] === '1')
      console.log(`trace test set-up: Kafka ready after ${kafkaMs} ms; services serving after (ms) ${JSON.stringify(servingMs)}`);

    await registerFleetTenant({
      tenant,
      endpoints,
      address: (service) => address.get(service) ?? '',
      displayName: 'Contoso (trace)',
      agents: [agent],
      mailboxes: [mailbox],
    });
  }, 240_000);

  afterAll(async () => {
    agentStop.abort();
    // TRACE_TEST_LOGS=<dir>: every process's output and the collected spans, for diagnosis.
    const logDir = process.env['TRACE_TEST_LOGS'];
    if (logDir) {
      writeProcessLogs(logDir, running);
      writeFileSync(
        path.join(logDir, 'spans.json'),
        JSON.stringify(
          collector?.spans ?? [],
          (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
          2,
        ),
      );
    }
    await Promise.all([...running.values()].map((proc) => proc.stop('SIGKILL')));
    await sandbox?.stop();
    await kafka?.dispose();
    await collector?.close();
    rmSync(buildDir, { recursive: true, force: true });
    await dropFleetDatabases(tenant);
  }, 120_000);

  function fail(service: ServiceName, error: unknown): never {
    throw withProcessOutput(service, running.get(service), error);
  }

  /** The agent: one desktop stream; accepts every offer, replies to this test's e-mail, completes anything else. */
  function runAgent(tag: string, replies: string[], errors: string[]): Promise<void> {
    return (async () => {
      const { desktop, channel } = await signInDesktop(endpoints, agent.upn, address.get('interaction-router') ?? '');
      const handled = new Set<string>();
      const work = (interaction: Interaction): void => {
        if (handled.has(interaction.interactionId)) return;
        handled.add(interaction.interactionId);
        const action = interaction.subject.includes(tag)
          ? desktop
              .reply(
                {
                  idempotencyKey: `trace-${interaction.interactionId}`,
                  interactionId: interaction.interactionId,
                  replyToGraphMessageId: '',
                  mode: ReplyMode.REPLY_MODE_REPLY,
                  content: OutgoingMessage.fromPartial({ bodyHtml: `<p>Answer to ${interaction.subject}</p>` }),
                  completeAfterSend: true,
                },
                { signal: AbortSignal.timeout(30_000) },
              )
              .then(({ sendId }) => void replies.push(sendId))
          : desktop
              .complete(
                { interactionId: interaction.interactionId, dispositionCode: '', note: 'trace test: not ours' },
                { signal: AbortSignal.timeout(30_000) },
              )
              .then(() => undefined);
        action.catch((error: unknown) => {
          if (!agentStop.signal.aborted) errors.push(`${interaction.interactionId}: ${String(error)}`);
        });
      };
      const accept = (offerId: string): void => {
        desktop
          .accept({ offerId }, { signal: AbortSignal.timeout(30_000) })
          .then(({ interaction }) => interaction && work(interaction))
          .catch(() => undefined);
      };
      try {
        for await (const update of desktop.connect(
          { clientInstanceId: 'trace-alice', initialPresence: AgentPresence.AGENT_PRESENCE_AVAILABLE },
          { signal: agentStop.signal },
        )) {
          dispatchDesktopUpdate(update, { work, accept });
        }
      } catch (error) {
        if (!agentStop.signal.aborted) errors.push(`desktop stream: ${String(error)}`);
      } finally {
        channel.close();
      }
    })();
  }

  async function interactionTagged(tag: string): Promise<Interaction | undefined> {
    const router = createGrpcClient(InteractionRouterServiceDefinition, address.get('interaction-router') ?? '', {
      deadlineMs: 30_000,
    });
    try {
      const page = await router.client.searchInteractions(
        {
          page: { pageSize: 10, pageToken: '' },
          filter: { subjectContains: tag },
          order: InteractionOrder.INTERACTION_ORDER_UNSPECIFIED,
        },
        { metadata: tenant.metadata() },
      );
      return page.interactions[0];
    } finally {
      router.close();
    }
  }

  it('links the Graph fetch, Kafka, the router, the agent’s reply and the Graph send of one e-mail in one trace', async () => {
    const tag = `TR${randomBytes(3).toString('hex')}`;
    const replies: string[] = [];
    const errors: string[] = [];
    const agentTask = runAgent(tag, replies, errors);
    const delivered = await endpoints.admin.deliver(demoProfile.tenantId, mailbox, {
      from: { address: 'customer@customer.example', name: 'Customer' },
      subject: `${tag} where is my order?`,
      body: 'Order 1234 has not arrived.',
    });

    // The reply went out through Graph, in the customer's thread.
    await waitFor(
      async () =>
        (await endpoints.admin.sent(demoProfile.tenantId, mailbox)).value.some(
          (record) => record.inReplyTo === delivered.internetMessageId,
        )
          ? true
          : undefined,
      {
        timeoutMs: 180_000,
        intervalMs: 250,
        description: `the reply to ${tag} sent through Graph (agent errors: ${JSON.stringify(errors)})`,
      },
    );
    const interaction = await interactionTagged(tag);
    expect(interaction).toBeDefined();
    const interactionId = interaction?.interactionId ?? '';
    expect(replies).toHaveLength(1);

    const spans = collector.spans;
    const byId = (id: string) => spans.find((span) => span.spanId === id);
    const isGraphSend = (span: CollectedSpan) =>
      span.kind === OtlpSpanKind.client &&
      span.attributes['http.request.method'] === 'POST' &&
      String(span.attributes['url.full']).endsWith('/send');
    // Walks from a span up by parentSpanId, as far as the spans received so far go.
    const ancestry = (from: CollectedSpan): CollectedSpan[] => {
      const chain: CollectedSpan[] = [];
      for (let span: CollectedSpan | undefined = from; span; span = span.parentSpanId ? byId(span.parentSpanId) : undefined) {
        chain.unshift(span);
        if (chain.length > 50) throw new Error('parent cycle');
      }
      return chain;
    };
    // The e-mail's root span and the Graph send in its trace, once every process exported its part
    // (each exports on its own batch schedule): the walk from the send reaches the root, and the
    // agent's Reply call and auth-broker's spans are in.
    const { root, send, chain } = await waitFor(
      () => {
        const emailSpan = spans.find(
          (span) =>
            span.service === 'mailbox-fetch' &&
            span.name === 'mailbox-fetch.email' &&
            span.attributes['mailroute.interaction_id'] === interactionId,
        );
        const sendSpan = emailSpan && spans.find((span) => span.traceId === emailSpan.traceId && isGraphSend(span));
        const walk = sendSpan ? ancestry(sendSpan) : [];
        const complete =
          emailSpan &&
          walk[0] === emailSpan &&
          spans.some((span) => span.traceId === emailSpan.traceId && span.service === 'auth-broker') &&
          spans.some((span) => span.name.endsWith('AgentDesktopService/Reply'));
        return complete && sendSpan ? { root: emailSpan, send: sendSpan, chain: walk } : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: `the spans of ${interactionId}` },
    ).catch((error: unknown) => {
      const emailSpan = spans.find(
        (span) => span.name === 'mailbox-fetch.email' && span.attributes['mailroute.interaction_id'] === interactionId,
      );
      const sendSpan = emailSpan && spans.find((span) => span.traceId === emailSpan.traceId && isGraphSend(span));
      const walk = sendSpan ? ancestry(sendSpan).map((span) => `${span.service}: ${span.name}`) : [];
      throw new Error(
        `${String(error)}: ${spans.length} spans received; e-mail span ${emailSpan ? 'found' : 'missing'}; walk up from the Graph send: ${JSON.stringify(walk)}`,
        { cause: error },
      );
    });
    const trace = spans.filter((span) => span.traceId === root.traceId);

    // The walk from the Graph send up to the root by parentSpanId: every hop is a span of this trace.
    const describe = (span: CollectedSpan) => ({ service: span.service, name: span.name, kind: span.kind });
    expect(chain.at(-1)).toBe(send);
    expect(root.parentSpanId).toBe('');
    expect(chain.every((span) => span.traceId === root.traceId)).toBe(true);
    expect(chain.map(describe)).toEqual([
      { service: 'mailbox-fetch', name: 'mailbox-fetch.email', kind: OtlpSpanKind.internal },
      { service: 'mailbox-fetch', name: 'mailroute.inbound-email.v1 publish', kind: OtlpSpanKind.producer },
      { service: 'interaction-router', name: 'mailroute.inbound-email.v1 process', kind: OtlpSpanKind.consumer },
      { service: 'interaction-router', name: 'interaction-router.reply', kind: OtlpSpanKind.internal },
      { service: 'interaction-router', name: 'mailroute.outbound-request.v1 publish', kind: OtlpSpanKind.producer },
      { service: 'outbound-send', name: 'mailroute.outbound-request.v1 process', kind: OtlpSpanKind.consumer },
      { service: 'outbound-send', name: 'outbound-send.attempt', kind: OtlpSpanKind.internal },
      { service: 'outbound-send', name: 'POST', kind: OtlpSpanKind.client },
    ]);
    const [, publish, intake, reply] = chain;

    // mailbox-fetch's Graph read of the message: a fetch client span under the e-mail's span, with
    // W3C context sent to Graph.
    const graphReads = trace.filter(
      (span) => span.service === 'mailbox-fetch' && span.kind === OtlpSpanKind.client && span.parentSpanId === root.spanId,
    );
    expect(graphReads.map((span) => span.attributes['http.request.method'])).toContain('GET');
    expect(
      graphReads.some(
        (span) =>
          String(span.attributes['url.full']).includes('/messages/') && span.attributes['http.response.status_code'] === 200,
      ),
    ).toBe(true);
    // … of this e-mail only: a request queued behind another e-mail's in the per-mailbox limiter stays in its own trace.
    const ofThisEmail = (span: CollectedSpan) =>
      [delivered.id, delivered.immutableId].some((id) =>
        String(span.attributes['url.full']).includes(`/messages/${encodeURIComponent(id)}`),
      );
    expect(
      graphReads
        .filter((span) => span.attributes['http.request.method'] !== undefined && !ofThisEmail(span))
        .map((span) => span.attributes['url.full']),
    ).toEqual([]);
    // Recorded without the query (delta and skip tokens).
    expect(
      trace
        .filter((span) => span.attributes['url.full'] !== undefined)
        .every((span) => !String(span.attributes['url.full']).includes('?')),
    ).toBe(true);
    expect(publish?.attributes['messaging.destination.name']).toBe('mailroute.inbound-email.v1');
    // Its inbound record's insert (MongoDB) too.
    expect(
      trace.some(
        (span) =>
          span.service === 'mailbox-fetch' &&
          span.scope.includes('mongodb') &&
          span.name.startsWith('insert ') &&
          span.parentSpanId === root.spanId,
      ),
    ).toBe(true);

    // The router's MongoDB commands during the intake are children of its consumer span.
    const intakeMongo = trace.filter(
      (span) => span.service === 'interaction-router' && span.scope.includes('mongodb') && span.parentSpanId === intake?.spanId,
    );
    expect(intakeMongo.length).toBeGreaterThan(0);
    expect(
      intakeMongo.every(
        (span) =>
          span.kind === OtlpSpanKind.client && (span.attributes['db.system.name'] ?? span.attributes['db.system']) === 'mongodb',
      ),
    ).toBe(true);

    // The reply span is linked to the agent's Reply call (a span of the desktop call's own trace), and that call to the e-mail's trace.
    const replyCall = spans.find((span) => span.spanId === reply?.links[0]?.spanId);
    expect(replyCall).toMatchObject({ service: 'interaction-router', kind: OtlpSpanKind.server });
    expect(replyCall?.name).toMatch(/AgentDesktopService\/Reply$/);
    expect(replyCall?.traceId).not.toBe(root.traceId);
    expect(replyCall?.links.map((link) => link.spanId)).toContain(intake?.spanId);
    expect(reply?.attributes['mailroute.interaction_id']).toBe(interactionId);

    // All four services are in the trace: auth-broker through the token outbound-send fetched for its
    // first Graph call (a fresh process has none cached): gRPC client span in the attempt → auth-broker's
    // GetAccessToken server span (→ MSAL's request to Entra ID when auth-broker had no token either).
    expect(new Set(trace.map((span) => span.service))).toEqual(new Set(order));
    const attempt = chain[6];
    const tokenCall = trace.find(
      (span) =>
        span.service === 'outbound-send' &&
        span.kind === OtlpSpanKind.client &&
        span.name.endsWith('/GetAccessToken') &&
        span.parentSpanId === attempt?.spanId,
    );
    const tokenServe = trace.find(
      (span) => span.service === 'auth-broker' && span.kind === OtlpSpanKind.server && span.parentSpanId === tokenCall?.spanId,
    );
    expect(tokenServe?.name).toBe('mailroute.v1.AccessTokenService/GetAccessToken');
    // The first token of the tenant (whichever service asked first) came from Entra ID: MSAL's POST
    // to the token endpoint is a fetch client span under that GetAccessToken call, W3C context and all.
    const entraTokenRequests = spans.filter(
      (span) =>
        span.service === 'auth-broker' &&
        span.kind === OtlpSpanKind.client &&
        span.attributes['http.request.method'] === 'POST' &&
        String(span.attributes['url.full']).endsWith('/oauth2/v2.0/token'),
    );
    expect(entraTokenRequests.length).toBeGreaterThan(0);
    expect(
      entraTokenRequests.every(
        (span) =>
          byId(span.parentSpanId)?.name === 'mailroute.v1.AccessTokenService/GetAccessToken' &&
          span.attributes['http.response.status_code'] === 200,
      ),
    ).toBe(true);
    // Every auth-broker span of the trace hangs under outbound-send's call.
    for (const span of trace.filter((s) => s.service === 'auth-broker')) {
      let top: CollectedSpan | undefined = span;
      while (top && top.service === 'auth-broker') top = byId(top.parentSpanId);
      expect(top?.spanId).toBe(tokenCall?.spanId);
    }

    // No span for the exporters' own requests; no client span without a parent (a background
    // request starts no trace).
    const collectorPort = new URL(collector.endpoint).port;
    expect(
      spans.filter(
        (span) =>
          String(span.attributes['server.port'] ?? '') === collectorPort ||
          String(span.attributes['url.full'] ?? '').includes(`:${collectorPort}`),
      ),
    ).toEqual([]);
    const httpScopes = (span: CollectedSpan) =>
      span.scope.includes('http') || span.scope === '@mailroute/platform/fetch' || span.scope.includes('mongodb');
    expect(spans.filter((span) => httpScopes(span) && span.parentSpanId === '').map(describe)).toEqual([]);
    // Health checks (every waitForServing poll) are not traced.
    expect(spans.filter((span) => span.name.startsWith('grpc.health.v1.'))).toEqual([]);
    expect(errors).toEqual([]);

    agentStop.abort();
    await agentTask;
  }, 300_000);
});
