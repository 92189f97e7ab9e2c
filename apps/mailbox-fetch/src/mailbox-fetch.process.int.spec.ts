import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MailboxFetchServiceDefinition, type InboundEmail, type MailboxSyncStatus } from '@mailroute/contracts';
import { fenceCheckedAtHeader } from '@mailroute/graph-mail';
import { events, fromEventMessage, KafkaEventBus, type Subscription } from '@mailroute/messaging';
import { createGrpcClient, hashBearerCredential } from '@mailroute/platform';
import {
  createSandboxMailTenant,
  randomId,
  startDedicatedKafka,
  startRecordingProxy,
  startAuthBrokerProcess,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  type AuthBrokerProcess,
  type DedicatedKafka,
  type RecordedRequest,
  type RecordingProxy,
  type SandboxMailTenant,
  type ServiceProcess,
} from '@mailroute/testing';
import { Metadata } from 'nice-grpc';
import { openMongoStores } from './store/mailbox-fetch.stores';

/**
 * Acceptance tests with real processes: mailbox-fetch's main.ts (SIGKILLed and restarted, two at
 * once), the real auth-broker process for tokens (MSAL against the graph sandbox over HTTPS), the
 * shared FerretDB and Kafka, and a Kafka broker of the outage test's own that is really stopped.
 * Scale: MAILBOX_FETCH_TEST_CRASH_EMAILS (default 128) and MAILBOX_FETCH_TEST_KILLS (default 3);
 * MAILBOX_FETCH_TEST_REPORT=1 prints the measured figures (takeover time, outage timings, redeliveries).
 */
const crashEmails = Number(process.env['MAILBOX_FETCH_TEST_CRASH_EMAILS'] ?? 128);
const kills = Number(process.env['MAILBOX_FETCH_TEST_KILLS'] ?? 3);

type Started = Awaited<ReturnType<typeof startTestGraphSandbox>>;

/** Prints measured figures when MAILBOX_FETCH_TEST_REPORT is set (silent otherwise). */
const report = (figures: Record<string, unknown>): void => {
  if (process.env['MAILBOX_FETCH_TEST_REPORT'])
    process.stdout.write(`${expect.getState().currentTestName ?? ''}: ${JSON.stringify(figures)}\n`);
};

/** waitFor that, on timeout, shows the end of the process's log. */
async function until<T>(
  proc: ServiceProcess,
  probe: () => T | Promise<T>,
  options: { timeoutMs: number; description: string; intervalMs?: number },
) {
  try {
    return await waitFor(probe, options);
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\n--- last log lines of pid ${proc.child.pid} ---\n${proc.output
        .filter((line) => !line.includes('"grpc call"'))
        .slice(-40)
        .join('\n')}`,
      { cause: error },
    );
  }
}

describe('mailbox-fetch as real processes with auth-broker, FerretDB and Kafka', () => {
  const certDir = mkdtempSync(path.join(tmpdir(), 'mf-process-sandbox-'));
  const workDir = mkdtempSync(path.join(tmpdir(), 'mf-process-'));
  const serviceToken = `mrs_${randomId('fetch')}`;
  /** One mailroute tenant per test, each with an API key that both services accept. */
  const tenants = {
    crash: randomId('crash'),
    replicas: randomId('replicas'),
    stall: randomId('stall'),
    outage: randomId('outage'),
  };
  const apiKeys = Object.fromEntries(Object.values(tenants).map((tenant) => [tenant, `mrk_${randomId('key')}`])) as Record<
    string,
    string
  >;
  const apiKeyList = (scopes: string) =>
    Object.entries(apiKeys)
      .map(([tenant, key], i) => `k${i}:${tenant}:${scopes}:${hashBearerCredential(key)}`)
      .join(',');
  const bearer = (tenantId: string) => ({ metadata: Metadata({ authorization: `Bearer ${apiKeys[tenantId] ?? ''}` }) });

  let started: Started;
  let authBroker: AuthBrokerProcess;
  let authAddress: string;
  let bus: KafkaEventBus;
  let subscription: Subscription;
  const received: InboundEmail[] = [];
  const processes: ServiceProcess[] = [];
  const closers: (() => Promise<unknown> | unknown)[] = [];

  /** The outage test's own broker, started in the background while the other tests run (a JVM start takes 10–20 s). */
  let dedicatedKafka: Promise<DedicatedKafka>;

  beforeAll(async () => {
    dedicatedKafka = startDedicatedKafka();
    dedicatedKafka.catch(() => undefined); // awaited (and its failure reported) by the outage test
    started = await startTestGraphSandbox({ certDir });
    authBroker = await startAuthBrokerProcess({
      endpoints: started.endpoints,
      workDir,
      apiKeys,
      serviceTokens: { 'mailbox-fetch': serviceToken },
    });
    processes.push(authBroker.proc);
    authAddress = authBroker.address;
    bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: randomId('mf-process-test') });
    await bus.ensureTopics([{ topic: events.inboundEmail.topic, partitions: 8 }]);
    subscription = await bus.subscribe({
      groupId: randomId('mf-process-consumer'),
      topics: [events.inboundEmail.topic],
      fromBeginning: false,
      handler: async (message) => {
        received.push(fromEventMessage('inboundEmail', message));
      },
    });
    await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 30_000, description: 'consumer assignment' });
  });

  afterAll(async () => {
    await Promise.allSettled(processes.map((proc) => proc.stop('SIGKILL')));
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    await subscription?.close({ graceMs: 0 });
    await bus?.close();
    await started?.sandbox.stop();
    await dedicatedKafka?.then((kafka) => kafka.dispose()).catch(() => undefined);
    rmSync(certDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  /** A sandbox tenant whose app credentials are stored in the auth-broker process for `tenantId`. */
  async function setUpTenant(tenantId: string, mailboxCount: number): Promise<SandboxMailTenant> {
    const sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount });
    await authBroker.addSandboxCredentials(tenantId, sandbox);
    return sandbox;
  }

  interface FetchOptions {
    database: string;
    replicaId?: string;
    kafkaBrokers?: string;
    leaseTtlMs?: number;
    livenessTtlMs?: number;
    maxMailboxes?: number;
    proxy?: RecordingProxy;
    deltaPageSize?: number;
  }

  /** Starts apps/mailbox-fetch/src/main.ts as its own process; resolves once it listens. */
  async function startFetch(options: FetchOptions) {
    const proc = startServiceProcess('apps/mailbox-fetch/src/main.ts', {
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      NODE_EXTRA_CA_CERTS: started.endpoints.caCertPath,
      MAILBOX_FETCH_STORE: 'mongodb',
      MAILBOX_FETCH_MONGODB_URL: testInfra().mongoUrl,
      MAILBOX_FETCH_MONGODB_DATABASE: options.database,
      MAILBOX_FETCH_KAFKA_BROKERS: options.kafkaBrokers ?? testInfra().kafkaBrokers.join(','),
      MAILBOX_FETCH_AUTH_BROKER_ADDRESS: authAddress,
      MAILBOX_FETCH_AUTH_BROKER_TOKEN: serviceToken,
      MAILBOX_FETCH_API_KEYS: apiKeyList('mailboxes.read+mailboxes.write'),
      MAILBOX_FETCH_METRICS_PORT: '0',
      MAILBOX_FETCH_LEASE_TTL_MS: String(options.leaseTtlMs ?? 3_000),
      MAILBOX_FETCH_SCAN_INTERVAL_MS: '300',
      MAILBOX_FETCH_POLL_INTERVAL_CAP_MS: '300',
      MAILBOX_FETCH_ERROR_BACKOFF_MAX_MS: '2000',
      MAILBOX_FETCH_DELTA_PAGE_SIZE: String(options.deltaPageSize ?? 10),
      ...(options.replicaId ? { MAILBOX_FETCH_REPLICA_ID: options.replicaId } : {}),
      ...(options.maxMailboxes ? { MAILBOX_FETCH_MAX_MAILBOXES: String(options.maxMailboxes) } : {}),
      ...(options.livenessTtlMs ? { MAILBOX_FETCH_LIVENESS_TTL_MS: String(options.livenessTtlMs) } : {}),
      // Graph traffic (fetch) through the recording proxy; gRPC to auth-broker and Kafka stay direct.
      ...(options.proxy ? { HTTPS_PROXY: options.proxy.url, NODE_USE_ENV_PROXY: '1', NO_PROXY: '' } : {}),
    });
    processes.push(proc);
    const port = await proc.port();
    const handle = createGrpcClient(MailboxFetchServiceDefinition, `127.0.0.1:${port}`, { deadlineMs: 30_000 });
    closers.push(() => handle.close());
    return { proc, client: handle.client };
  }

  type FetchClient = Awaited<ReturnType<typeof startFetch>>['client'];

  async function statuses(client: FetchClient, tenantId: string): Promise<MailboxSyncStatus[]> {
    return (await client.listSyncStatuses({ page: { pageSize: 100, pageToken: '' } }, bearer(tenantId))).statuses;
  }

  const eventsOf = (tenantId: string) => received.filter((event) => event.tenantId === tenantId);

  function deliver(sandbox: SandboxMailTenant, perMailbox: number, tag: string) {
    return Promise.all(
      sandbox.mailboxes.map((address, box) =>
        started.endpoints.admin.deliverBulk(
          sandbox.directoryId,
          address,
          Array.from({ length: perMailbox }, (_, i) => ({
            from: `customer${i}@example.org`,
            subject: `${tag} ${box}-${String(i).padStart(4, '0')}`,
            body: `hello ${i}`,
          })),
        ),
      ),
    );
  }

  it('keeps exactly one interaction per e-mail, none missing, while the process is SIGKILLed at random points of ingestion and restarted', async () => {
    const tenantId = tenants.crash;
    const mailboxes = 4;
    const sandbox = await setUpTenant(tenantId, mailboxes);
    // Slow Graph a little and read small pages, so a batch takes many page commits to ingest.
    await started.endpoints.admin.addFault({
      tenantId: sandbox.directoryId,
      endpoint: 'messages.get',
      latency: { distribution: 'fixed', ms: 20 },
    });
    const database = randomId('mf-crash');
    const batches = kills + 1;
    const perBatch = Math.max(1, Math.round(crashEmails / mailboxes / batches));
    const perBatchTotal = perBatch * mailboxes;
    const total = perBatchTotal * batches;
    const pageSize = 3;
    const progressOf = (batch: number) =>
      new Set(
        eventsOf(tenantId).flatMap((event) =>
          event.message?.subject.startsWith(`crash${batch} `) ? [event.message.subject] : [],
        ),
      ).size;

    let current = await startFetch({ database, deltaPageSize: pageSize });
    for (let box = 0; box < mailboxes; box += 1)
      await current.client.createMailbox(
        { mailboxId: `c-${box}`, mailbox: { address: sandbox.mailboxes[box] ?? '' } },
        bearer(tenantId),
      );
    /** E-mails of the batch published when its process was killed. */
    const killedAt: number[] = [];
    for (let batch = 0; batch < batches; batch += 1) {
      await deliver(sandbox, perBatch, `crash${batch}`);
      if (batch === batches - 1) break;
      // Kill at a random point of this batch's progress (1 … all but one e-mail published).
      const target = 1 + Math.floor(Math.random() * (perBatchTotal - 1));
      await until(current.proc, () => progressOf(batch) >= target, {
        timeoutMs: 60_000,
        description: `batch ${batch} at ${target} e-mails`,
      });
      await current.proc.stop('SIGKILL');
      killedAt.push(progressOf(batch));
      // The new process (a new replica id) takes the mailboxes over once the dead one's leases expire.
      current = await startFetch({ database, deltaPageSize: pageSize });
    }
    await until(current.proc, () => new Set(eventsOf(tenantId).map((event) => event.message?.subject)).size >= total, {
      timeoutMs: 90_000,
      description: `all ${total} e-mails published`,
    });
    await started.endpoints.admin.clearFaults();

    report({ total, events: eventsOf(tenantId).length, publishedAtKill: killedAt, perBatch: perBatchTotal });
    // The kills interrupted ingestion: some batch was half published when its process died.
    expect(killedAt.some((count) => count < perBatchTotal)).toBe(true);
    const all = eventsOf(tenantId);
    const bySubject = new Map<string, Set<string>>();
    for (const event of all) {
      const ids = bySubject.get(event.message?.subject ?? '') ?? new Set<string>();
      ids.add(event.interactionId);
      bySubject.set(event.message?.subject ?? '', ids);
    }
    // None missing, and an e-mail published again after a kill carries the same interaction id.
    expect(bySubject.size).toBe(total);
    expect([...bySubject.values()].filter((ids) => ids.size !== 1)).toEqual([]);
    expect(new Set(all.map((event) => event.interactionId)).size).toBe(total);
    // Redelivery (at least once) is limited to pages in flight at a kill: at most one page per mailbox per kill.
    expect(all.length - total).toBeLessThanOrEqual(kills * mailboxes * pageSize);
    // Exactly one interaction record per e-mail in the store.
    const stores = await openMongoStores({ url: testInfra().mongoUrl, database });
    try {
      const listRecords = () => stores.inbound.list({ prefix: `${tenantId}/`, limit: 100_000 });
      // The `#published` marker is written after the publish: the last ones may land after their events did.
      await until(
        current.proc,
        async () => (await listRecords()).filter((entry) => entry.key.endsWith('#published')).length >= total,
        { timeoutMs: 30_000, description: 'published markers' },
      );
      const records = await listRecords();
      expect(records.filter((entry) => !entry.key.includes('#'))).toHaveLength(total);
      expect(records.filter((entry) => entry.key.endsWith('#published'))).toHaveLength(total);
    } finally {
      await stores.close();
    }
  }, 240_000);

  it("runs two replica processes without a mailbox read by both, and the survivor takes a SIGKILLed replica's mailboxes over within its liveness time, long before the lease expires", async () => {
    const tenantId = tenants.replicas;
    const sandbox = await setUpTenant(tenantId, 6);
    const database = randomId('mf-replicas');
    // A production-length lease: the takeover must come from A being known dead (liveness), not from expiry.
    const leaseTtlMs = 30_000;
    const livenessTtlMs = 3_000;
    const requests: RecordedRequest[] = [];
    const upstream = started.endpoints.baseUrl;
    const proxyA = await startRecordingProxy({ label: 'replica-a', upstream, certDir, requests });
    const proxyB = await startRecordingProxy({ label: 'replica-b', upstream, certDir, requests });
    closers.push(
      () => proxyA.close(),
      () => proxyB.close(),
    );

    // A may own 3 mailboxes, so B gets the other 3; after A dies B owns all 6.
    const a = await startFetch({ database, replicaId: 'replica-a', leaseTtlMs, livenessTtlMs, maxMailboxes: 3, proxy: proxyA });
    for (const [box, address] of sandbox.mailboxes.entries())
      await a.client.createMailbox({ mailboxId: `r-${box}`, mailbox: { address } }, bearer(tenantId));
    await until(
      a.proc,
      async () => (await statuses(a.client, tenantId)).filter((s) => s.leaseOwner === 'replica-a').length === 3,
      { timeoutMs: 30_000, description: 'A owns 3' },
    );
    const b = await startFetch({ database, replicaId: 'replica-b', leaseTtlMs, livenessTtlMs, proxy: proxyB });
    await until(
      b.proc,
      async () => (await statuses(b.client, tenantId)).filter((s) => s.leaseOwner === 'replica-b').length === 3,
      { timeoutMs: 30_000, description: 'B owns 3' },
    );
    const ownerBefore = new Map((await statuses(b.client, tenantId)).map((s) => [s.mailboxId, s.leaseOwner]));
    expect([...ownerBefore.values()].sort()).toEqual([
      'replica-a',
      'replica-a',
      'replica-a',
      'replica-b',
      'replica-b',
      'replica-b',
    ]);

    await deliver(sandbox, 10, 'first');
    await until(a.proc, () => new Set(eventsOf(tenantId).map((event) => event.interactionId)).size >= 60, {
      timeoutMs: 60_000,
      description: 'first 60 e-mails',
    });
    await a.proc.stop('SIGKILL');
    const killedAt = Date.now();
    await until(b.proc, async () => (await statuses(b.client, tenantId)).every((s) => s.leaseOwner === 'replica-b'), {
      timeoutMs: leaseTtlMs + 30_000,
      intervalMs: 100,
      description: 'takeover',
    });

    await deliver(sandbox, 5, 'second');
    // (Counted by interaction: a page A published but had not committed when killed is published again by B.)
    await until(b.proc, () => new Set(eventsOf(tenantId).map((event) => event.interactionId)).size >= 90, {
      timeoutMs: 60_000,
      description: 'all 90 e-mails',
    });
    expect(new Set(eventsOf(tenantId).map((event) => event.interactionId)).size).toBe(90);

    // The sandbox-side view: which replica sent each Graph request about which mailbox.
    const byMailbox = new Map<string, RecordedRequest[]>();
    for (const request of requests) {
      const address = mailboxOfPath(request.path, sandbox);
      if (!address) continue;
      byMailbox.set(address, [...(byMailbox.get(address) ?? []), request]);
    }
    expect([...byMailbox.keys()].sort()).toEqual([...sandbox.mailboxes].sort());
    // Takeover: B acquired each of A's mailboxes within A's liveness time of the kill (plus a loaded
    // machine's slack), well before A's leases could expire (at least 12 s after the kill: they are
    // renewed once less than 18 of their 30 s are left) — from B's own log of its acquisitions.
    const takenOver = [...ownerBefore]
      .filter(([, owner]) => owner === 'replica-a')
      .map(([mailboxId]) => `${tenantId}/${mailboxId}`);
    const acquiredAt = new Map(
      b.proc.output.flatMap((line) => {
        if (!line.includes('mailbox-fetch: mailbox acquired')) return [];
        const entry = JSON.parse(line) as { mailbox: string; time: string };
        return [[entry.mailbox, Date.parse(entry.time)] as const];
      }),
    );
    const takeoverMs = Math.max(...takenOver.map((key) => (acquiredAt.get(key) ?? Number.POSITIVE_INFINITY) - killedAt));
    const firstRequestMs = Math.max(
      ...sandbox.mailboxes
        .filter((_, box) => ownerBefore.get(`r-${box}`) === 'replica-a')
        .map(
          (address) =>
            Math.min(...(byMailbox.get(address) ?? []).filter((r) => r.label === 'replica-b').map((r) => r.startedAt)) - killedAt,
        ),
    );
    report({ takeoverMs, firstRequestMs, leaseTtlMs, livenessTtlMs });
    expect(takeoverMs).toBeLessThan(12_000);
    for (const [box, address] of sandbox.mailboxes.entries()) {
      const seen = (byMailbox.get(address) ?? []).sort((x, y) => x.startedAt - y.startedAt);
      const owner = ownerBefore.get(`r-${box}`);
      const byA = seen.filter((request) => request.label === 'replica-a');
      const byB = seen.filter((request) => request.label === 'replica-b');
      if (owner === 'replica-b') {
        // B's mailboxes were never read by A.
        expect({ address, byA: byA.length }).toEqual({ address, byA: 0 });
      } else {
        // A's mailboxes: read by A, then by B only after A was killed, never both at a time.
        expect(byA.length).toBeGreaterThan(0);
        expect(byB.length).toBeGreaterThan(0);
        const lastOfA = Math.max(...byA.map((request) => request.endedAt ?? request.startedAt));
        expect(Math.min(...byB.map((request) => request.startedAt))).toBeGreaterThanOrEqual(Math.min(lastOfA, killedAt));
        expect(Math.min(...byB.map((request) => request.startedAt))).toBeGreaterThanOrEqual(killedAt);
      }
    }
  }, 240_000);

  it('never lets a stalled replica read a mailbox the survivor took: SIGSTOPped past its liveness, it loses its mailboxes within seconds and, resumed, sends no Graph request for them', async () => {
    const tenantId = tenants.stall;
    const sandbox = await setUpTenant(tenantId, 4);
    const database = randomId('mf-stall');
    const leaseTtlMs = 30_000;
    const livenessTtlMs = 3_000;
    const requests: RecordedRequest[] = [];
    const upstream = started.endpoints.baseUrl;
    const proxyA = await startRecordingProxy({ label: 'replica-a', upstream, certDir, requests });
    const proxyB = await startRecordingProxy({ label: 'replica-b', upstream, certDir, requests });
    closers.push(
      () => proxyA.close(),
      () => proxyB.close(),
    );
    const a = await startFetch({ database, replicaId: 'replica-a', leaseTtlMs, livenessTtlMs, maxMailboxes: 2, proxy: proxyA });
    for (const [box, address] of sandbox.mailboxes.entries())
      await a.client.createMailbox({ mailboxId: `s-${box}`, mailbox: { address } }, bearer(tenantId));
    await until(
      a.proc,
      async () => (await statuses(a.client, tenantId)).filter((s) => s.leaseOwner === 'replica-a').length === 2,
      { timeoutMs: 30_000, description: 'A owns 2' },
    );
    const b = await startFetch({ database, replicaId: 'replica-b', leaseTtlMs, livenessTtlMs, proxy: proxyB });
    await until(
      b.proc,
      async () => (await statuses(b.client, tenantId)).filter((s) => s.leaseOwner === 'replica-b').length === 2,
      { timeoutMs: 30_000, description: 'B owns 2' },
    );
    const ofA = (await statuses(b.client, tenantId))
      .filter((s) => s.leaseOwner === 'replica-a')
      .map((s) => sandbox.mailboxes[Number(s.mailboxId.slice(2))] ?? '');
    await deliver(sandbox, 5, 'before');
    await until(a.proc, () => eventsOf(tenantId).length >= 20, { timeoutMs: 60_000, description: 'first 20 events' });

    const pid = a.proc.child.pid ?? 0;
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    try {
      // Long before A's leases expire (at least 12 s), B knows A is gone and owns everything.
      await until(b.proc, async () => (await statuses(b.client, tenantId)).every((s) => s.leaseOwner === 'replica-b'), {
        timeoutMs: 11_000,
        intervalMs: 100,
        description: 'takeover from the stalled replica',
      });
      const takeoverMs = Date.now() - stoppedAt;
      await deliver(sandbox, 5, 'stalled');
      await until(b.proc, () => new Set(eventsOf(tenantId).map((e) => e.message?.subject)).size >= 40, {
        timeoutMs: 60_000,
        description: '40 e-mails',
      });
      report({ takeoverMs, livenessTtlMs, leaseTtlMs });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const resumedAt = Date.now();
    // Resumed, A finds its heartbeat lapsed and gives up every mailbox; mail keeps flowing through B.
    await until(a.proc, () => a.proc.output.some((line) => line.includes('liveness lapsed')), {
      timeoutMs: 30_000,
      description: 'A gives up after the lapse',
    });
    await deliver(sandbox, 3, 'resumed');
    await until(b.proc, () => new Set(eventsOf(tenantId).map((e) => e.message?.subject)).size >= 52, {
      timeoutMs: 60_000,
      description: '52 e-mails',
    });

    const all = eventsOf(tenantId);
    expect(new Set(all.map((e) => e.interactionId)).size).toBe(52);
    expect(new Set(all.map((e) => e.message?.subject)).size).toBe(52);
    // Never two readers: for each of A's former mailboxes, A's fence allowed no request once it was stopped
    // (so none after B's first one). A request it allowed just before the stop may reach Graph on resume —
    // the fence runs right before fetch, but a stop can land between the check and the socket write, and
    // Graph has no server-side fence — so its requests are judged by the check time they carry.
    const checkedAt = (request: RecordedRequest) => Number(request.headers[fenceCheckedAtHeader]);
    let inFlightAtStop = 0;
    for (const address of ofA) {
      const seen = requests.filter((request) => mailboxOfPath(request.path, sandbox) === address);
      const firstOfB = Math.min(...seen.filter((r) => r.label === 'replica-b').map((r) => r.startedAt));
      const ofReplicaA = seen.filter((r) => r.label === 'replica-a');
      const lateOfA = ofReplicaA.filter((r) => r.startedAt >= firstOfB);
      inFlightAtStop += lateOfA.length;
      expect({
        address,
        firstOfBAfterStop: firstOfB >= stoppedAt,
        everyRequestOfAFenced: ofReplicaA.every((r) => Number.isFinite(checkedAt(r))),
        allowedAfterTheStop: lateOfA.filter((r) => checkedAt(r) >= stoppedAt).map((r) => `${r.method} ${r.path}`),
      }).toEqual({ address, firstOfBAfterStop: true, everyRequestOfAFenced: true, allowedAfterTheStop: [] });
    }
    report({ requestsOfAAllowedBeforeTheStopAndSentOnResume: inFlightAtStop });
    expect(resumedAt).toBeGreaterThan(stoppedAt);
  }, 240_000);

  it('advances no delta link while its Kafka broker is down, loses nothing, and resumes by itself when the broker is back', async () => {
    const tenantId = tenants.outage;
    const kafka = await dedicatedKafka;
    const admin = new KafkaEventBus({ brokers: [kafka.brokers], clientId: randomId('mf-outage-admin') });
    await admin.ensureTopics([{ topic: events.inboundEmail.topic, partitions: 2 }]);
    await admin.close();

    const sandbox = await setUpTenant(tenantId, 2);
    const database = randomId('mf-outage');
    const fetch = await startFetch({ database, kafkaBrokers: kafka.brokers });
    for (const [box, address] of sandbox.mailboxes.entries())
      await fetch.client.createMailbox({ mailboxId: `k-${box}`, mailbox: { address } }, bearer(tenantId));
    // The first sync of an empty mailbox publishes nothing and stores its delta link: let it finish.
    await until(
      fetch.proc,
      async () => (await statuses(fetch.client, tenantId)).every((s) => s.lastSuccessfulSyncAt !== undefined),
      { timeoutMs: 30_000, description: 'first sync' },
    );
    const stores = await openMongoStores({ url: testInfra().mongoUrl, database });
    closers.push(() => stores.close());
    const latestSeq = (entries: readonly { document: { seq: number } }[]) =>
      Math.max(...entries.map((entry) => entry.document.seq));

    const outageStarted = Date.now();
    await kafka.stop();
    await deliver(sandbox, 20, 'outage');
    // Both mailboxes tried and failed to publish (the failure is visible in their status). Until
    // then empty polls may still have stored fresh delta links; from then on none may move.
    const failed = await until(
      fetch.proc,
      async () => {
        const current = await statuses(fetch.client, tenantId);
        return current.every((s) => s.consecutiveFailures >= 1 && s.lastError !== undefined)
          ? new Map(current.map((s) => [s.mailboxId, s.consecutiveFailures]))
          : undefined;
      },
      { timeoutMs: 60_000, description: 'publish failures visible' },
    );
    const cursorsAtOutage = await stores.cursors.list({ prefix: `${tenantId}/`, limit: 100 });
    await until(
      fetch.proc,
      async () => (await statuses(fetch.client, tenantId)).every((s) => s.consecutiveFailures > (failed.get(s.mailboxId) ?? 0)),
      {
        timeoutMs: 60_000,
        description: 'a further failed attempt per mailbox',
      },
    );
    expect(await stores.cursors.list({ prefix: `${tenantId}/`, limit: 100 })).toEqual(cursorsAtOutage);
    const inbound = await stores.inbound.list({ prefix: `${tenantId}/`, limit: 1_000 });
    expect(inbound.filter((entry) => entry.key.endsWith('#published'))).toEqual([]);

    const restartStarted = Date.now();
    await kafka.restart();
    const brokerBack = Date.now();
    const consumer = new KafkaEventBus({ brokers: [kafka.brokers], clientId: randomId('mf-outage-consumer') });
    closers.push(() => consumer.close());
    const outageEvents: InboundEmail[] = [];
    const outageSubscription = await consumer.subscribe({
      groupId: randomId('mf-outage-group'),
      topics: [events.inboundEmail.topic],
      fromBeginning: true,
      handler: async (message) => {
        outageEvents.push(fromEventMessage('inboundEmail', message));
      },
    });
    closers.push(() => outageSubscription.close({ graceMs: 0 }));
    await until(fetch.proc, () => new Set(outageEvents.map((event) => event.interactionId)).size >= 40, {
      timeoutMs: 90_000,
      description: 'intake resumed',
    });
    report({
      outageMs: restartStarted - outageStarted,
      brokerRestartMs: brokerBack - restartStarted,
      resumedAfterMs: Date.now() - brokerBack,
      events: outageEvents.length,
    });
    expect(new Set(outageEvents.map((event) => event.message?.subject)).size).toBe(40);
    await until(
      fetch.proc,
      async () =>
        (await statuses(fetch.client, tenantId)).every((s) => s.consecutiveFailures === 0 && s.messagesIngestedTotal === 20),
      { timeoutMs: 30_000, description: 'statuses recovered' },
    );
    const cursorsAfter = await stores.cursors.list({ prefix: `${tenantId}/`, limit: 100 });
    expect(latestSeq(cursorsAfter)).toBeGreaterThan(latestSeq(cursorsAtOutage));
  }, 240_000);
});

/** The mailbox a Graph request path is about (`/v1.0/users/<address or id>/…`), if any. */
function mailboxOfPath(requestPath: string, sandbox: SandboxMailTenant): string | undefined {
  const match = /\/users\/([^/?]+)/.exec(requestPath);
  if (!match?.[1]) return undefined;
  const user = decodeURIComponent(match[1]).toLowerCase();
  return sandbox.mailboxes.find((address) => address.toLowerCase() === user);
}
