import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createChannel, createClient, Metadata, type Channel } from 'nice-grpc';
import { createChannel as createWebChannel, createClient as createWebClient, ClientError, Status } from 'nice-grpc-web';
import {
  AgentDesktopServiceDefinition,
  AttachmentKind,
  ConnectRequest,
  DownloadAttachmentRequest,
  DownloadAttachmentResponse,
  ConnectResponse,
  GetInteractionAttachmentRequest,
  GetInteractionRequest,
  GetMyInteractionRequest,
  InboundEmail,
  InboundMessage,
  InteractionRouterServiceDefinition,
  ListMyInteractionsRequest,
  ListMyInteractionsResponse,
  type InteractionRouterServiceClient,
} from '@mailroute/contracts';
import { demoProfile, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { eventKey, events, KafkaEventBus, toEventMessage } from '@mailroute/messaging';
import { inboundAttachmentBlobKey, MongoBlobStore, MongoStore } from '@mailroute/persistence';
import { hashBearerCredential } from '@mailroute/platform';
import {
  launchChromium,
  randomId,
  saveScreenshot,
  signInWithDeviceCode,
  startDedicatedKafka,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  waitForServing,
  type DedicatedKafka,
  type ServiceProcess,
  type TestBrowser,
} from '@mailroute/testing';
import type { Page } from 'playwright-core';
import { readCall, startTestGateway, type PageCall, type TestGateway, type TestPageGlobals } from '../test/test-gateway';

/**
 * The gateway bridged to a real interaction-router process (its main.ts; FerretDB, a Kafka broker of
 * this suite's own so that its new consumer group reads no other suite's mail) from a real Chromium
 * page: the page's own script (served by the gateway, under its Content-Security-Policy) speaks
 * gRPC-web with fetch; the agent signed in with Microsoft through the graph sandbox (device code).
 */
describe('web gateway in front of a running interaction-router', () => {
  const suite = 'web-gateway';
  const tenantA = randomId('gw-a');
  const tenantB = randomId('gw-b');
  const keyA = `mrk_${randomBytes(24).toString('base64url')}`;
  const keyB = `mrk_${randomBytes(24).toString('base64url')}`;
  const upn = `gw-${randomBytes(3).toString('hex')}@${demoProfile.domain}`;
  let sandbox: GraphSandbox | undefined;
  let endpoints: GraphSandboxEndpoints;
  let kafka: DedicatedKafka | undefined;
  let bus: KafkaEventBus | undefined;
  let router: ServiceProcess | undefined;
  let routerAddress = '';
  let gateway: TestGateway | undefined;
  let browser: TestBrowser | undefined;
  let page: Page;
  let pageConsole: string[] = [];
  let token = '';
  let supervisorToken = '';
  const routerDatabase = randomId('gateway-router');
  const channels: Channel[] = [];
  const admin = (key: string): InteractionRouterServiceClient => {
    const channel = createChannel(routerAddress);
    channels.push(channel);
    return createClient(InteractionRouterServiceDefinition, channel, {
      '*': { metadata: Metadata({ authorization: `Bearer ${key}` }) },
    });
  };
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  const unary = (path: string, message: Uint8Array, bearer: string | undefined): Promise<PageCall> =>
    page.evaluate(([p, m, t]) => (globalThis as unknown as TestPageGlobals).grpcWeb.unary(p, m, t), [
      path,
      b64(message),
      bearer,
    ] as const);
  const publishInbound = async (tenantId: string, interactionId: string, attachments: InboundMessage['attachments'] = []) => {
    const event = InboundEmail.fromPartial({
      eventId: randomUUID(),
      tenantId,
      occurredAt: new Date(),
      interactionId,
      mailboxId: 'support',
      mailboxAddress: 'support@contoso.test',
      defaultQueueId: 'support',
      message: InboundMessage.fromPartial({
        subject: `Question ${interactionId}`,
        conversationId: `conv-${interactionId}`,
        graphMessageId: `g-${interactionId}`,
        internetMessageId: `<${interactionId}@customer.example>`,
        attachments,
      }),
    });
    await bus?.publish(events.inboundEmail.topic, [toEventMessage('inboundEmail', eventKey(tenantId, 'support'), event)]);
  };

  beforeAll(async () => {
    const kafkaStarting = startDedicatedKafka();
    ({ sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo', deviceCodeIntervalSeconds: 1 }));
    await endpoints.admin.createMailbox(demoProfile.tenantId, { userPrincipalName: upn, displayName: 'Gateway Agent' });
    token = await signInWithDeviceCode(endpoints, endpoints.admin, demoProfile.tenantId, demoProfile.desktopClientId, upn);
    supervisorToken = await signInWithDeviceCode(
      endpoints,
      endpoints.admin,
      demoProfile.tenantId,
      demoProfile.desktopClientId,
      demoProfile.consoleUsers.supervisor,
    );
    kafka = await kafkaStarting;
    router = startServiceProcess('apps/interaction-router/src/main.ts', {
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
      ROUTER_MONGODB_URL: testInfra().mongoUrl,
      ROUTER_MONGODB_DATABASE: routerDatabase,
      ROUTER_KAFKA_BROKERS: kafka.brokers,
      ROUTER_API_KEYS: [
        `wm-a:${tenantA}:routing.read+routing.write:${hashBearerCredential(keyA)}`,
        `wm-b:${tenantB}:routing.read+routing.write:${hashBearerCredential(keyB)}`,
      ].join(','),
      // Tenant A's agents sign in to the sandbox's demo directory; tenant B's directory has nobody here.
      ROUTER_AGENT_DIRECTORIES: `${tenantA}:${demoProfile.tenantId},${tenantB}:${randomUUID()}`,
      ROUTER_AGENT_AUDIENCE: demoProfile.desktopClientId,
      ROUTER_AGENT_AUTHORITY: endpoints.baseUrl,
      ROUTER_METRICS_PORT: '0',
    });
    routerAddress = `127.0.0.1:${await router.port()}`;
    await waitForServing(routerAddress);
    bus = new KafkaEventBus({ brokers: [kafka.brokers], clientId: 'web-gateway-test' });
    for (const key of [keyA, keyB]) {
      await admin(key).createQueue({
        queueId: 'support',
        queue: { displayName: 'Support', offerTimeout: { seconds: 120, nanos: 0 } },
      });
    }
    await admin(keyA).createAgent({
      agentId: 'gw-agent',
      agent: { displayName: 'Gateway Agent', userPrincipalName: upn, queueIds: ['support'], capacity: 2, skills: [] },
    });
    gateway = await startTestGateway({
      WEB_GATEWAY_ROUTER_ADDRESS: routerAddress,
      WEB_GATEWAY_AUTHORITY: `${endpoints.baseUrl}/${demoProfile.tenantId}`,
      WEB_GATEWAY_CLIENT_ID: demoProfile.desktopClientId,
      WEB_GATEWAY_UPLOAD_MAX_BYTES: String(64 * 1024),
      // Under 1 KiB/s over 1.5 s cuts an upload (the browser's 64 KiB upload below takes milliseconds).
      WEB_GATEWAY_UPLOAD_BODY_TIMEOUT_MS: '1500',
    });
    browser = await launchChromium({ trustOrigins: [endpoints.baseUrl] });
    const opened = await browser.newPage();
    page = opened.page;
    page.on('console', (message) => pageConsole.push(message.text()));
    pageConsole = opened.console.map((message) => message.text());
    await page.goto(gateway.url);
    await page.waitForFunction(
      () => (globalThis as unknown as TestPageGlobals).document.getElementById('status')?.textContent === 'ready',
    );
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    channels.forEach((channel) => channel.close());
    await bus?.close();
    if (router) {
      const result = await router.stop('SIGTERM');
      if (result.code !== 0) process.stderr.write(`router output:\n${router.output.slice(-30).join('\n')}\n`);
    }
    await kafka?.dispose();
    await sandbox?.stop();
  });

  it('serves the console under a Content-Security-Policy that refuses an inline script', async () => {
    const response = await page.goto(gateway?.url ?? '');
    await page.waitForFunction(
      () => (globalThis as unknown as TestPageGlobals).document.getElementById('status')?.textContent === 'ready',
    );
    const policy = response?.headers()['content-security-policy'] ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain(`connect-src 'self' ${endpoints.baseUrl}`);
    expect(policy).not.toContain('unsafe-inline;');
    // The page's external script ran (it set "ready"); its inline one was refused, and Chromium said so.
    expect(await page.evaluate(() => (globalThis as unknown as TestPageGlobals).inlineScriptRan)).toBeUndefined();
    await waitFor(() => pageConsole.some((line) => /Content Security Policy/i.test(line) && /inline script/i.test(line)), {
      timeoutMs: 10_000,
      description: 'the CSP violation on the page console',
    });
    const config = await page.evaluate(() =>
      (globalThis as unknown as TestPageGlobals).fetch('config.json').then((r) => r.json()),
    );
    expect(config).toEqual({
      authority: `${endpoints.baseUrl}/${demoProfile.tenantId}`,
      clientId: demoProfile.desktopClientId,
      knownAuthorities: [new URL(endpoints.baseUrl).host],
      title: 'mailroute',
    });
    await saveScreenshot(page, suite, 'test-page');
  });

  it('bridges a unary call from Chromium to the router over gRPC-web', async () => {
    const call = await unary(
      '/mailroute.v1.AgentDesktopService/ListMyInteractions',
      ListMyInteractionsRequest.encode(ListMyInteractionsRequest.fromPartial({})).finish(),
      token,
    );
    expect(call.status).toBe(200);
    expect(call.headers['content-type']).toBe('application/grpc-web+proto');
    const { messages, code } = readCall(call);
    expect(code).toBe(0);
    expect(messages).toHaveLength(1);
    expect(ListMyInteractionsResponse.decode(messages[0] ?? Buffer.alloc(0)).interactions).toEqual([]);
  });

  it('answers errors with their gRPC status: no token, a bad field, an unknown method, a client stream', async () => {
    const noToken = readCall(
      await unary(
        '/mailroute.v1.AgentDesktopService/ListMyInteractions',
        ListMyInteractionsRequest.encode(ListMyInteractionsRequest.fromPartial({})).finish(),
        undefined,
      ),
    );
    expect(noToken.code).toBe(Status.UNAUTHENTICATED);
    const badField = readCall(
      await unary(
        '/mailroute.v1.AgentDesktopService/GetMyInteraction',
        GetMyInteractionRequest.encode({ interactionId: '' }).finish(),
        token,
      ),
    );
    expect(badField.code).toBe(Status.INVALID_ARGUMENT);
    expect(badField.message).toContain('interaction_id');
    const unknown = readCall(await unary('/mailroute.v1.AgentDesktopService/NoSuchMethod', new Uint8Array(0), token));
    expect(unknown.code).toBe(Status.UNIMPLEMENTED);
    expect(unknown.message).not.toContain('NoSuchMethod');
    const clientStream = readCall(
      await unary('/mailroute.v1.AgentDesktopService/UploadReplyAttachment', new Uint8Array(0), token),
    );
    expect(clientStream.code).toBe(Status.UNIMPLEMENTED);
    expect(clientStream.message).toContain('/uploads/reply-attachments');
  });

  it('serves nice-grpc-web, the console client, with statuses as ClientErrors', async () => {
    const client = createWebClient(AgentDesktopServiceDefinition, createWebChannel(gateway?.url ?? ''), {
      '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
    });
    expect((await client.listMyInteractions({})).interactions).toEqual([]);
    const error = await client.getMyInteraction({ interactionId: 'no-such-interaction' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe(Status.NOT_FOUND);
  });

  it('delivers the desktop stream to Chromium as it happens: the snapshot, then an offer for new mail', async () => {
    const index = await page.evaluate(
      ([m, t]) => (globalThis as unknown as TestPageGlobals).grpcWeb.open('/mailroute.v1.AgentDesktopService/Connect', m, t),
      [b64(ConnectRequest.encode(ConnectRequest.fromPartial({ clientInstanceId: 'gateway-test' })).finish()), token] as const,
    );
    const received = async () => {
      const call = (await page.evaluate((i) => (globalThis as unknown as TestPageGlobals).grpcWeb.read(i), index)) as PageCall;
      return readCall(call).messages.map((bytes) => ConnectResponse.decode(bytes));
    };
    await waitFor(async () => (await received()).some((m) => m.event?.$case === 'snapshot') || undefined, {
      timeoutMs: 60_000,
      description: 'the snapshot on the stream',
    });
    expect(gateway?.parts.server.openStreams()).toBe(1);
    const interactionId = randomId('gw-mail');
    await publishInbound(tenantA, interactionId);
    const offer = await waitFor(
      async () =>
        (await received())
          .flatMap((m) => (m.event?.$case === 'offer' ? [m.event.value] : []))
          .find((o) => o.interaction?.interactionId === interactionId),
      { timeoutMs: 120_000, intervalMs: 250, description: 'the offer on the browser stream' },
    );
    expect(offer.interaction?.interactionId).toBe(interactionId);
    await page.evaluate((i) => (globalThis as unknown as TestPageGlobals).grpcWeb.abort(i), index);
    await waitFor(() => gateway?.parts.server.openStreams() === 0, {
      timeoutMs: 10_000,
      description: 'the stream closed at the gateway',
    });
  });

  it("keeps tenants apart: tenant A's agent and key cannot reach tenant B's interaction through the gateway", async () => {
    const interactionId = randomId('gw-tenant-b');
    await publishInbound(tenantB, interactionId);
    const adminB = admin(keyB);
    await waitFor(
      () =>
        adminB.getInteraction({ interactionId }).then(
          () => true,
          () => undefined,
        ),
      { timeoutMs: 120_000, description: "tenant B's interaction stored" },
    );
    const asAgent = readCall(
      await unary(
        '/mailroute.v1.AgentDesktopService/GetMyInteraction',
        GetMyInteractionRequest.encode({ interactionId }).finish(),
        token,
      ),
    );
    expect([Status.NOT_FOUND, Status.PERMISSION_DENIED]).toContain(asAgent.code);
    const asKey = readCall(
      await unary(
        '/mailroute.v1.InteractionRouterService/GetInteraction',
        GetInteractionRequest.encode({ interactionId }).finish(),
        keyA,
      ),
    );
    expect([Status.NOT_FOUND, Status.PERMISSION_DENIED]).toContain(asKey.code);
    // The same call with tenant B's key does reach it: the refusals above are the tenant wall, not a broken route.
    const asOwner = readCall(
      await unary(
        '/mailroute.v1.InteractionRouterService/GetInteraction',
        GetInteractionRequest.encode({ interactionId }).finish(),
        keyB,
      ),
    );
    expect(asOwner.code).toBe(Status.OK);
  });

  it("keeps attachments apart: tenant A's agent and supervisor cannot fetch tenant B's attachment; a missing id is INVALID_ARGUMENT naming the field", async () => {
    const interactionId = randomId('gw-attachment-b');
    const graphMessageId = `g-${interactionId}`;
    const attachmentId = `att-${randomUUID()}`;
    const content = Buffer.from('tenant B only');
    // mailbox-fetch's part: the content stored under the tenant's key in the router's GridFS bucket.
    const store = await MongoStore.connect({ url: testInfra().mongoUrl, database: routerDatabase, appName: 'web-gateway-test' });
    const stored = await new MongoBlobStore(store, 'attachments')
      .put(inboundAttachmentBlobKey(tenantB, graphMessageId, attachmentId), content, {
        name: 'contract.pdf',
        contentType: 'application/pdf',
      })
      .finally(() => store.close());
    await publishInbound(tenantB, interactionId, [
      {
        attachmentId,
        name: 'contract.pdf',
        contentType: 'application/pdf',
        sizeBytes: content.length,
        kind: AttachmentKind.ATTACHMENT_KIND_FILE,
        isInline: false,
        contentId: '',
        contentStored: true,
        contentSha256: stored.sha256,
      },
    ]);
    await waitFor(
      () =>
        admin(keyB)
          .getInteraction({ interactionId })
          .then(
            () => true,
            () => undefined,
          ),
      { timeoutMs: 120_000, description: "tenant B's interaction stored" },
    );
    const ref = { interactionId, graphMessageId, attachmentId };
    const asSupervisor = (bearer: string, request = ref) =>
      unary(
        '/mailroute.v1.InteractionRouterService/GetInteractionAttachment',
        GetInteractionAttachmentRequest.encode(request).finish(),
        bearer,
      ).then(readCall);

    const asAgentA = readCall(
      await unary('/mailroute.v1.AgentDesktopService/DownloadAttachment', DownloadAttachmentRequest.encode(ref).finish(), token),
    );
    expect([Status.NOT_FOUND, Status.PERMISSION_DENIED]).toContain(asAgentA.code);
    expect(asAgentA.messages).toHaveLength(0);
    for (const bearer of [supervisorToken, keyA]) {
      const refused = await asSupervisor(bearer);
      expect([Status.NOT_FOUND, Status.PERMISSION_DENIED]).toContain(refused.code);
      expect(refused.messages).toHaveLength(0);
    }
    // Tenant B's key does get it through the same route: the refusals above are the tenant wall, not a broken route.
    const asOwner = await asSupervisor(keyB);
    expect(asOwner.code).toBe(Status.OK);
    const parts = asOwner.messages.map((bytes) => DownloadAttachmentResponse.decode(bytes).part);
    expect(parts[0]).toMatchObject({ $case: 'info', value: { name: 'contract.pdf', contentSha256: stored.sha256 } });
    expect(Buffer.concat(parts.flatMap((part) => (part?.$case === 'chunk' ? [part.value] : []))).toString()).toBe(
      'tenant B only',
    );

    const missing = await asSupervisor(keyB, { ...ref, attachmentId: '' });
    expect(missing.code).toBe(Status.INVALID_ARGUMENT);
    expect(missing.message).toContain('attachment_id');
    const agentMissing = readCall(
      await unary(
        '/mailroute.v1.AgentDesktopService/DownloadAttachment',
        DownloadAttachmentRequest.encode({ ...ref, interactionId: '' }).finish(),
        token,
      ),
    );
    expect(agentMissing.code).toBe(Status.INVALID_ARGUMENT);
    expect(agentMissing.message).toContain('interaction_id');
  });

  it('refuses an upload over its limit before reading it, and forwards one within it to the router', async () => {
    const upload = (bytes: number, name: string) =>
      page.evaluate(
        ([b, n, t]) =>
          (globalThis as unknown as TestPageGlobals).grpcWeb.upload(
            `/uploads/reply-attachments?name=${encodeURIComponent(n)}`,
            b,
            t,
            'application/pdf',
          ),
        [Buffer.alloc(bytes, 7).toString('base64'), name, token] as const,
      ) as Promise<{ status: number; body: string }>;
    const over = await upload(64 * 1024 + 1, 'too-big.pdf');
    expect(over.status).toBe(413);
    expect(JSON.parse(over.body)).toEqual({ code: 'INVALID_ARGUMENT', message: 'metadata.size_bytes: at most 65536 bytes' });
    const within = await upload(64 * 1024, 'fits.pdf');
    const body = JSON.parse(within.body) as { upload?: { sizeBytes?: string | number }; code?: string };
    expect(within.status).toBe(200);
    expect(Number(body.upload?.sizeBytes)).toBe(64 * 1024);
  });

  it("streams a supervisor's template-attachment upload into UploadTemplateAttachment, and refuses an agent's with 403", async () => {
    const upload = (bearer: string) =>
      page.evaluate(
        ([b, t]) =>
          (globalThis as unknown as TestPageGlobals).grpcWeb.upload(
            '/uploads/template-attachments?name=terms.pdf',
            b,
            t,
            'application/pdf',
          ),
        [Buffer.from('%PDF-1.4\n% terms\n%%EOF\n').toString('base64'), bearer] as const,
      ) as Promise<{ status: number; body: string }>;
    const stored = await upload(supervisorToken);
    expect(stored.status).toBe(200);
    const body = JSON.parse(stored.body) as { upload?: { uploadId?: string; name?: string; contentType?: string } };
    expect(body.upload).toMatchObject({ name: 'terms.pdf', contentType: 'application/pdf' });
    expect(body.upload?.uploadId).toBeTruthy();
    const refused = await upload(token);
    expect(refused.status).toBe(403);
    expect((JSON.parse(refused.body) as { code: string }).code).toBe('PERMISSION_DENIED');
  });

  it('cuts a slow-loris upload whose body trickles in with 408 DEADLINE_EXCEEDED and closes its connection', async () => {
    const target = new URL('/uploads/reply-attachments?name=slow.pdf', gateway?.url);
    const answer = await new Promise<{ status: number; body: string; sentBytes: number }>((resolve, reject) => {
      let sentBytes = 0;
      const call = httpRequest(target, {
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf', 'content-length': 64 * 1024 },
      });
      // 100 bytes every 300 ms: about 330 bytes a second, under the gateway's 1 KiB a second.
      const trickle = setInterval(() => {
        sentBytes += 100;
        call.write(Buffer.alloc(100, 1));
      }, 300);
      call.on('response', (response) => {
        clearInterval(trickle);
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const socket = response.socket;
          // Resolves once the gateway closed the connection: a test that never sees it close times out.
          const done = () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              sentBytes,
            });
          if (socket.destroyed) done();
          else socket.once('close', done);
        });
      });
      call.on('error', (error) => {
        clearInterval(trickle);
        reject(error);
      });
    });
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toEqual({
      code: 'DEADLINE_EXCEEDED',
      message: "the upload's body stalled (under 1024 bytes a second for 2 s); it was not stored",
    });
    expect(answer.sentBytes).toBeLessThan(64 * 1024);
  });
});
