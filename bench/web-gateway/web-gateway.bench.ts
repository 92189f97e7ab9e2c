// web-gateway: the latency the gRPC-web gateway adds, against calling the router directly in the same
// run, and the gateway's memory with many connected desktops.
// One interaction-router process (its main.ts: FerretDB, Kafka) and one web-gateway process (its
// main.ts) on 127.0.0.1; agents signed in with Microsoft through the graph sandbox (device code).
// - unary: GetMyInteraction with a malformed id (answered INVALID_ARGUMENT after authentication, before
//   any store access, so FerretDB's latency does not drown the gateway's), BENCH_CALLS rounds, each round once directly (nice-grpc, HTTP/2) and
//   once through the gateway (nice-grpc-web, the console's client: fetch, HTTP/1.1, gRPC-web), in
//   alternating order; p50/p99 of each and of the difference.
// - stream delivery: two agents on desktop streams, one connected directly and one through the
//   gateway; BENCH_EVENTS times each agent changes its presence (SetPresence, directly) and the
//   time until its own stream delivers the PresenceChanged event is measured: the same router path,
//   so the difference is what the gateway adds to delivery.
// - memory: a second gateway process in front of a desktop service of the bench's own (a real gRPC
//   server whose Connect sends a snapshot, then a heartbeat every 15 s, like the router's): its RSS
//   (from /proc) idle, then with BENCH_DESKTOPS desktop streams open through it (snapshot received).
//   The router is not used for this part: 500 agents' sign-ups on FerretDB v1 take longer than the
//   bench should (CreateAgent's uniqueness claims), and the figure is the gateway's own memory.
// Kafka: the running one named by MAILROUTE_TEST_KAFKA_BROKERS (with MAILROUTE_TEST_MONGODB_URL), else
// started by tools/test-infra and stopped afterwards; FerretDB: one of the bench's own.
// Run: npx nx run bench:web-gateway, or node tools/scripts/run-ts.mjs bench/web-gateway/web-gateway.bench.ts
// Env: BENCH_CALLS (default 1000), BENCH_EVENTS (200), BENCH_DESKTOPS (500).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ClientError,
  createChannel,
  createClient,
  createServer,
  Metadata,
  ServerError,
  Status,
  type CallContext,
  type Channel,
} from 'nice-grpc';
import { createChannel as createWebChannel, createClient as createWebClient } from 'nice-grpc-web';
import {
  AgentDesktopServiceDefinition,
  AgentPresence,
  type ConnectRequest,
  ConnectResponse,
  InteractionRouterServiceDefinition,
  type AgentDesktopServiceClient,
} from '@mailroute/contracts';
import { demoProfile } from '@mailroute/graph-sandbox';
import { hashBearerCredential } from '@mailroute/platform';
import {
  freePort,
  randomId,
  signInWithDeviceCode,
  startBenchInfra,
  startDedicatedFerretDb,
  startServiceProcess,
  startTestGraphSandbox,
  waitFor,
  waitForServing,
  type ServiceProcess,
} from '@mailroute/testing';

const calls = Number(process.env['BENCH_CALLS'] ?? 1000);
const eventRounds = Number(process.env['BENCH_EVENTS'] ?? 200);
const desktops = Number(process.env['BENCH_DESKTOPS'] ?? 500);

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const ms = (value: number) => `${value.toFixed(2)} ms`;
const rssMiB = (pid: number): number => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? Number.NaN) / 1024;
};

/** A desktop stream read in the background; `next(predicate)` resolves with the time the next matching event arrived. */
function watch(stream: AsyncIterable<ConnectResponse>) {
  const waiters: { predicate: (m: ConnectResponse) => boolean; resolve: (at: number) => void }[] = [];
  let snapshot = false;
  void (async () => {
    try {
      for await (const message of stream) {
        const at = performance.now();
        if (message.event?.$case === 'snapshot') snapshot = true;
        for (const waiter of [...waiters]) {
          if (waiter.predicate(message)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(at);
          }
        }
      }
    } catch {
      // aborted at the end
    }
  })();
  return {
    hasSnapshot: () => snapshot,
    next: (predicate: (m: ConnectResponse) => boolean) => new Promise<number>((resolve) => waiters.push({ predicate, resolve })),
  };
}

async function main(): Promise<void> {
  const infra = await startBenchInfra();
  // The router's store is a FerretDB of the bench's own: 500 agents' sign-ups and session refreshes
  // on a FerretDB that other runs load too would measure them, not the gateway.
  const ferret = await startDedicatedFerretDb();
  const { sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo', deviceCodeIntervalSeconds: 1 });
  const processes: ServiceProcess[] = [];
  const channels: Channel[] = [];
  const abort = new AbortController();
  try {
    const tenant = randomId('bench-gw');
    const apiKey = `mrk_${randomBytes(24).toString('base64url')}`;
    const suffix = randomBytes(3).toString('hex');
    const agentCount = 2;
    const upns = Array.from({ length: agentCount }, (_, i) => `gwb-${suffix}-${i}@${demoProfile.domain}`);
    process.stdout.write(`web-gateway bench: signing in ${agentCount} agents…\n`);
    for (const upn of upns)
      await endpoints.admin.createMailbox(demoProfile.tenantId, { userPrincipalName: upn, displayName: upn });
    const tokens: string[] = [];
    for (let i = 0; i < upns.length; i += 50) {
      tokens.push(
        ...(await Promise.all(
          upns
            .slice(i, i + 50)
            .map((upn) =>
              signInWithDeviceCode(endpoints, endpoints.admin, demoProfile.tenantId, demoProfile.desktopClientId, upn),
            ),
        )),
      );
    }

    const routerPort = await freePort();
    const router = startServiceProcess('apps/interaction-router/src/main.ts', {
      GRPC_PORT: String(routerPort),
      LOG_LEVEL: 'warn',
      NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
      ROUTER_MONGODB_URL: ferret.url,
      ROUTER_MONGODB_DATABASE: randomId('bench-gw'),
      ROUTER_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      ROUTER_CONSUMER_GROUP: randomId('bench-gw'),
      ROUTER_API_KEYS: `wm:${tenant}:routing.read+routing.write:${hashBearerCredential(apiKey)}`,
      ROUTER_AGENT_DIRECTORIES: `${tenant}:${demoProfile.tenantId}`,
      ROUTER_AGENT_AUDIENCE: demoProfile.desktopClientId,
      ROUTER_AGENT_AUTHORITY: endpoints.baseUrl,
      ROUTER_METRICS_PORT: '0',
      ROUTER_SESSION_TTL_MS: '60000',
    });
    processes.push(router);
    const routerAddress = `127.0.0.1:${routerPort}`;
    await waitForServing(routerAddress, { timeoutMs: 120_000 });
    process.stdout.write(`web-gateway bench: router serving; creating agents…\n`);
    const routerChannel = createChannel(routerAddress);
    channels.push(routerChannel);
    const admin = createClient(InteractionRouterServiceDefinition, routerChannel, {
      '*': { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) },
    });
    await admin.createQueue({ queueId: 'bench', queue: { displayName: 'Bench' } });
    // A few at a time, retried: a shared FerretDB under load answers slowly; a retried create that
    // had gone through is ALREADY_EXISTS, which is what we wanted.
    const createAgent = async (upn: string, index: number) => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await admin.createAgent({
            agentId: `agent-${index}`,
            agent: { displayName: upn, userPrincipalName: upn, queueIds: ['bench'], capacity: 1, skills: [] },
          });
          return;
        } catch (error) {
          if (error instanceof ClientError && error.code === Status.ALREADY_EXISTS) return;
          if (attempt >= 8) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
        }
      }
    };
    for (let i = 0; i < upns.length; i += 5) await Promise.all(upns.slice(i, i + 5).map((upn, j) => createAgent(upn, i + j)));

    const gatewayPort = await freePort();
    const gateway = startServiceProcess('apps/web-gateway/src/main.ts', {
      LOG_LEVEL: 'info',
      WEB_GATEWAY_PORT: String(gatewayPort),
      WEB_GATEWAY_ROUTER_ADDRESS: routerAddress,
      WEB_GATEWAY_METRICS_PORT: '0',
      WEB_GATEWAY_MAX_STREAMS: String(desktops + 100),
    });
    processes.push(gateway);
    await gateway.port();
    process.stdout.write(`web-gateway bench: gateway listening; measuring…\n`);
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const direct = (token: string): AgentDesktopServiceClient =>
      createClient(AgentDesktopServiceDefinition, routerChannel, {
        '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
      });
    const webChannel = createWebChannel(gatewayUrl);
    const viaGateway = (token: string) =>
      createWebClient(AgentDesktopServiceDefinition, webChannel, {
        '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
      });

    // 1. unary
    const token0 = tokens[0] ?? '';
    const directClient = direct(token0);
    const webClient = viaGateway(token0);
    // The router refuses the id's shape after authenticating the agent and before any store access:
    // the round trip measured is transport, authentication and the error mapping, not FerretDB.
    const refused = (call: Promise<unknown>) =>
      call.then(
        () => {
          throw new Error('GetMyInteraction with a malformed id was answered');
        },
        () => undefined,
      );
    const unaryCall = { interactionId: 'not an id' };
    for (let i = 0; i < 50; i += 1) {
      await refused(directClient.getMyInteraction(unaryCall));
      await refused(webClient.getMyInteraction(unaryCall));
    }
    const unaryDirect: number[] = [];
    const unaryGateway: number[] = [];
    for (let i = 0; i < calls; i += 1) {
      const order = i % 2 === 0 ? (['direct', 'gateway'] as const) : (['gateway', 'direct'] as const);
      for (const path of order) {
        const started = performance.now();
        await refused(path === 'direct' ? directClient.getMyInteraction(unaryCall) : webClient.getMyInteraction(unaryCall));
        (path === 'direct' ? unaryDirect : unaryGateway).push(performance.now() - started);
      }
    }

    process.stdout.write(`web-gateway bench: unary done; streams…\n`);
    // 2. stream delivery
    const streamDirect = watch(direct(tokens[0] ?? '').connect({ clientInstanceId: 'bench-direct' }, { signal: abort.signal }));
    const streamGateway = watch(
      viaGateway(tokens[1] ?? '').connect({ clientInstanceId: 'bench-gateway' }, { signal: abort.signal }),
    );
    await waitFor(() => streamDirect.hasSnapshot() && streamGateway.hasSnapshot(), {
      timeoutMs: 60_000,
      description: 'both snapshots',
    });
    process.stdout.write(`web-gateway bench: both streams connected\n`);
    const deliveryDirect: number[] = [];
    const deliveryGateway: number[] = [];
    const presenceClients = [direct(tokens[0] ?? ''), direct(tokens[1] ?? '')];
    for (let i = 0; i < eventRounds; i += 1) {
      const presence = i % 2 === 0 ? AgentPresence.AGENT_PRESENCE_BUSY : AgentPresence.AGENT_PRESENCE_AVAILABLE;
      for (const [index, stream, into] of [
        [0, streamDirect, deliveryDirect],
        [1, streamGateway, deliveryGateway],
      ] as const) {
        const arrived = stream.next((m) => m.event?.$case === 'presenceChanged' && m.event.value.status?.presence === presence);
        const started = performance.now();
        await presenceClients[index]?.setPresence({ presence });
        into.push((await arrived) - started);
      }
    }

    // 3. memory with many desktops
    const desk = createServer();
    desk.add(AgentDesktopServiceDefinition, {
      ...Object.fromEntries(
        Object.keys(AgentDesktopServiceDefinition.methods).map((name) => [
          name,
          () => {
            throw new ServerError(Status.UNIMPLEMENTED, 'not in this bench');
          },
        ]),
      ),
      async *connect(_request: ConnectRequest, context: CallContext) {
        yield ConnectResponse.fromPartial({ event: { $case: 'snapshot', value: {} } });
        while (!context.signal.aborted) {
          await new Promise((resolve) => setTimeout(resolve, 15_000));
          yield ConnectResponse.fromPartial({ event: { $case: 'heartbeat', value: {} } });
        }
      },
    } as never);
    const deskPort = await desk.listen('127.0.0.1:0');
    const memoryGatewayPort = await freePort();
    const memoryGateway = startServiceProcess('apps/web-gateway/src/main.ts', {
      LOG_LEVEL: 'info',
      WEB_GATEWAY_PORT: String(memoryGatewayPort),
      WEB_GATEWAY_ROUTER_ADDRESS: `127.0.0.1:${deskPort}`,
      WEB_GATEWAY_METRICS_PORT: '0',
      WEB_GATEWAY_MAX_STREAMS: String(desktops + 100),
    });
    processes.push(memoryGateway);
    await memoryGateway.port();
    const memoryChannel = createWebChannel(`http://127.0.0.1:${memoryGatewayPort}`);
    const stub = createWebClient(AgentDesktopServiceDefinition, memoryChannel);
    // One call first, so the idle figure includes the loaded code and the upstream channel.
    await stub.listMyInteractions({}).catch(() => undefined);
    const rssBefore = rssMiB(memoryGateway.child.pid ?? 0);
    const opened = Array.from({ length: desktops }, (_, i) =>
      watch(stub.connect({ clientInstanceId: `bench-${i}` }, { signal: abort.signal })),
    );
    await waitFor(() => opened.every((stream) => stream.hasSnapshot()), {
      timeoutMs: 300_000,
      intervalMs: 250,
      description: `${desktops} desktops connected`,
    });
    const rssAfter = rssMiB(memoryGateway.child.pid ?? 0);
    abort.abort();
    await desk.shutdown();

    const diff = (a: number[], b: number[], p: number) => percentile(b, p) - percentile(a, p);
    process.stdout.write(
      [
        `web-gateway bench (${calls} unary rounds, ${eventRounds} stream events per path, ${desktops} desktops)`,
        `  unary GetMyInteraction (refused id, no store access)  direct p50 ${ms(percentile(unaryDirect, 50))} p99 ${ms(percentile(unaryDirect, 99))} | gateway p50 ${ms(percentile(unaryGateway, 50))} p99 ${ms(percentile(unaryGateway, 99))} | added p50 ${ms(diff(unaryDirect, unaryGateway, 50))} p99 ${ms(diff(unaryDirect, unaryGateway, 99))}`,
        `  stream delivery (SetPresence → PresenceChanged on the stream)  direct p50 ${ms(percentile(deliveryDirect, 50))} p99 ${ms(percentile(deliveryDirect, 99))} | gateway p50 ${ms(percentile(deliveryGateway, 50))} p99 ${ms(percentile(deliveryGateway, 99))} | added p50 ${ms(diff(deliveryDirect, deliveryGateway, 50))} p99 ${ms(diff(deliveryDirect, deliveryGateway, 99))}`,
        `  gateway RSS: ${rssBefore.toFixed(1)} MiB idle, ${rssAfter.toFixed(1)} MiB with ${desktops} desktop streams open (${(((rssAfter - rssBefore) * 1024) / desktops).toFixed(1)} KiB per desktop)`,
        '',
      ].join('\n'),
    );
  } finally {
    abort.abort();
    channels.forEach((channel) => channel.close());
    for (const child of processes.reverse()) await child.stop('SIGTERM').catch(() => undefined);
    await sandbox.stop();
    await ferret.dispose();
    await infra.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
