// Recovery after a crash: how long intake stalls when the Kafka broker, FerretDB or the all-in-one
// host is SIGKILLed and restarted, with e-mail arriving all the while. The host runs as a real process
// in Kafka + MongoDB mode (`npm start -- --config`), on a Kafka broker and a FerretDB of this bench's
// own (tools/test-infra, own data directories, restarted on the same port and data); a graph sandbox
// in this process stands in for Microsoft 365. E-mail is delivered at a steady rate; "an interaction"
// is the router's record of an e-mail (its createdAt, the router's clock, read back with
// SearchInteractions at the end).
// Per fault, it prints:
//   stall     the longest time with no new interaction, from the last one before the fault to the first after it
//   recovery  from the fault's end (broker/store answering again; host: the new process started) to the first new interaction
//   serving   host only: from the restart to the router answering grpc.health.v1 SERVING
// Targets (issue 21): recovery ≤ 10 s after the broker or store is back, serving ≤ 10 s after a host restart.
// Run: npx nx run bench:recovery, or node tools/scripts/run-ts.mjs bench/recovery/recovery.bench.ts
// Env: BENCH_FAULTS (kafka,ferretdb,host), BENCH_ROUNDS (1 per fault), BENCH_RATE (4 e-mails/s),
// BENCH_DOWN_SECONDS (15: how long the broker or store stays down before its restart starts), BENCH_TIMEOUT_SECONDS (180: per recovery),
// BENCH_KEEP_LOGS=1 keeps the host's data directory and log. BENCH_BASELINE=<git ref> runs the same scenario first against that commit's code (extracted with
// git archive, sharing this checkout's node_modules) and prints both.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metadata, createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { InteractionOrder, InteractionRouterServiceDefinition, type Interaction } from '@mailroute/contracts';
import { GraphSandboxAdminClient, demoProfile } from '@mailroute/graph-sandbox';
import { createGrpcClient } from '@mailroute/platform';
import {
  freePort,
  randomId,
  startDedicatedFerretDb,
  startDedicatedKafka,
  startTestGraphSandbox,
  waitFor,
  workspaceRoot,
} from '@mailroute/testing';

const faults = (process.env['BENCH_FAULTS'] ?? 'kafka,ferretdb,host')
  .split(',')
  .map((fault) => fault.trim())
  .filter(Boolean) as FaultKind[];
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 1);
const rate = Number(process.env['BENCH_RATE'] ?? 4);
const downMs = Number(process.env['BENCH_DOWN_SECONDS'] ?? 15) * 1000;
const recoveryTimeoutMs = Number(process.env['BENCH_TIMEOUT_SECONDS'] ?? 180) * 1000;
const baselineRef = process.env['BENCH_BASELINE'];
const support = 'support@contoso-demo.example';
const billing = 'billing@contoso-demo.example';

type FaultKind = 'kafka' | 'ferretdb' | 'host';

interface Fault {
  kind: FaultKind;
  /** When the SIGKILL was sent. */
  startedAt: number;
  /** Broker/store answering again, or the host's new process spawned. */
  endedAt: number;
  /** Host: restart → router SERVING. */
  servingMs?: number;
}

interface Measured {
  kind: FaultKind;
  stallMs: number;
  recoveryMs: number;
  servingMs?: number | undefined;
}

interface Host {
  child: ChildProcess;
  output: string[];
  exited: Promise<void>;
}

/** The host (`apps/mailroute/src/main.ts` of `root`) as its own process, as `npm start -- --config` runs it. */
function startHost(root: string, env: Record<string, string>): Host {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps/mailroute/src/main.ts')], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.base.json'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, output, exited };
}

/** `ref`'s tree in a temporary directory, with this checkout's node_modules. */
function extractTree(ref: string): { root: string; remove: () => void } {
  const root = mkdtempSync(path.join(tmpdir(), 'mailroute-baseline-'));
  execFileSync('sh', ['-c', `git archive --format=tar ${JSON.stringify(ref)} | tar -x -C ${JSON.stringify(root)}`], {
    cwd: workspaceRoot,
    stdio: 'inherit',
  });
  symlinkSync(path.join(workspaceRoot, 'node_modules'), path.join(root, 'node_modules'));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Polls grpc.health.v1 on `address` with a new channel per probe until SERVING: one long-lived
 * channel would wait out grpc-js' reconnect backoff after refused connections and report late.
 */
async function waitForServingFresh(address: string): Promise<void> {
  await waitFor(
    async () => {
      const channel = createChannel(address);
      try {
        const answer = await createClient(HealthDefinition, channel).check(
          { service: '' },
          { signal: AbortSignal.timeout(1_000) },
        );
        return answer.status === 1;
      } catch {
        return false;
      } finally {
        channel.close();
      }
    },
    { timeoutMs: 180_000, intervalMs: 200, description: `SERVING on ${address}` },
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runScenario(label: string, root: string): Promise<Measured[]> {
  process.stderr.write(`bench: ${label}: starting Kafka, FerretDB, the graph sandbox and the host…\n`);
  const [kafka, ferret] = await Promise.all([startDedicatedKafka(), startDedicatedFerretDb()]);
  const { sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo' });
  const admin = new GraphSandboxAdminClient(endpoints.adminUrl);
  const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-recovery-'));
  const routerPort = await freePort();
  const router = `127.0.0.1:${routerPort}`;
  const configFile = path.join(dir, 'mailroute.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      dataDir: path.join(dir, 'data'),
      ports: {
        authBroker: await freePort(),
        mailboxFetch: await freePort(),
        interactionRouter: routerPort,
        outboundSend: await freePort(),
        webGateway: await freePort(),
      },
      sandbox: { enabled: false },
      agentSignIn: { authorityHost: endpoints.baseUrl, audience: demoProfile.desktopClientId },
      logLevel: 'info',
      pollIntervalCapMs: 500,
      bus: { kind: 'kafka', brokers: [kafka.brokers] },
      store: { kind: 'mongodb', url: ferret.url, database: randomId('recovery').replace(/[^A-Za-z0-9_-]/g, '_') },
      tenants: [
        {
          id: 'demo',
          directoryId: demoProfile.tenantId,
          clientId: demoProfile.clientId,
          clientSecretEnv: 'DEMO_CLIENT_SECRET',
          clientSecretExpires: new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10),
          authorityHost: endpoints.baseUrl,
          graphEndpoint: endpoints.baseUrl,
          queues: [{ id: 'support' }],
          mailboxes: [
            { id: 'support', address: support, queue: 'support' },
            { id: 'billing', address: billing, queue: 'support' },
          ],
          agents: [{ id: 'alice', upn: 'alice@contoso-demo.example', queues: ['support'], capacity: 5 }],
        },
      ],
    }),
  );
  const hostEnv = {
    MAILROUTE_CONFIG: configFile,
    NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
    DEMO_CLIENT_SECRET: demoProfile.clientSecret,
  };
  const waitReady = async (host: Host): Promise<void> => {
    await waitFor(() => host.output.some((line) => line.startsWith('mailroute: ready')) || host.child.exitCode !== null, {
      timeoutMs: 180_000,
      description: 'the host ready',
    });
    if (host.child.exitCode !== null) throw new Error(`the host exited:\n${host.output.slice(-40).join('\n')}`);
  };
  let host = startHost(root, hostEnv);
  const tag = randomId('rec');
  const delivering = new AbortController();
  const measured: Measured[] = [];
  try {
    await waitReady(host);
    const secrets = JSON.parse(readFileSync(path.join(dir, 'data', 'host-secrets.json'), 'utf8')) as {
      apiKeys: Record<string, string>;
    };
    const metadata = Metadata({ authorization: `Bearer ${secrets.apiKeys['demo'] ?? ''}` });
    const client = createGrpcClient(InteractionRouterServiceDefinition, router, { deadlineMs: 10_000 });
    const interactions = async (): Promise<Interaction[]> => {
      const found: Interaction[] = [];
      let pageToken = '';
      do {
        const page = await client.client.searchInteractions(
          {
            page: { pageSize: 500, pageToken },
            filter: { subjectContains: tag },
            order: InteractionOrder.INTERACTION_ORDER_UNSPECIFIED,
          },
          { metadata },
        );
        found.push(...page.interactions);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return found;
    };
    const createdSince = async (since: number): Promise<boolean> => {
      try {
        return (await interactions()).some((interaction) => (interaction.createdAt?.getTime() ?? 0) > since);
      } catch {
        return false;
      }
    };

    // Steady intake for the whole run; the sandbox is never faulted, so delivery never pauses.
    const deliveries = (async () => {
      for (let i = 0; !delivering.signal.aborted; i += 1) {
        await admin
          .deliver(demoProfile.tenantId, i % 2 === 0 ? support : billing, {
            from: `customer${i}@customer.example`,
            subject: `Question ${tag} #${i}`,
            body: 'Where is my order?',
          })
          .catch(() => undefined);
        await sleep(1000 / rate);
      }
    })();
    await waitFor(() => createdSince(0), { timeoutMs: 240_000, intervalMs: 500, description: 'the first interaction' });
    await sleep(5_000);

    const recorded: Fault[] = [];
    for (let round = 0; round < rounds; round += 1) {
      for (const kind of faults) {
        process.stderr.write(`bench: ${label}: ${kind} SIGKILL + restart (round ${round + 1})…\n`);
        const startedAt = Date.now();
        let fault: Fault;
        if (kind === 'kafka') {
          await kafka.kill();
          await sleep(downMs);
          await kafka.restart();
          fault = { kind, startedAt, endedAt: Date.now() };
        } else if (kind === 'ferretdb') {
          await ferret.kill();
          await sleep(downMs);
          await ferret.restart();
          fault = { kind, startedAt, endedAt: Date.now() };
        } else {
          host.child.kill('SIGKILL');
          await host.exited;
          const restartedAt = Date.now();
          host = startHost(root, hostEnv);
          await waitForServingFresh(router);
          fault = { kind, startedAt, endedAt: restartedAt, servingMs: Date.now() - restartedAt };
        }
        await waitFor(() => createdSince(fault.endedAt), {
          timeoutMs: recoveryTimeoutMs,
          intervalMs: 250,
          description: `an interaction after the ${kind} fault`,
        });
        recorded.push(fault);
        await sleep(5_000);
      }
    }
    delivering.abort();
    await deliveries;

    const times = (await interactions()).map((interaction) => interaction.createdAt?.getTime() ?? 0).sort((a, b) => a - b);
    for (const fault of recorded) {
      const firstAfter = times.find((time) => time > fault.endedAt) ?? Number.NaN;
      const lastBefore = [...times].reverse().find((time) => time <= fault.startedAt) ?? fault.startedAt;
      const window = times.filter((time) => time >= lastBefore && time <= firstAfter);
      let stallMs = 0;
      for (let i = 1; i < window.length; i += 1) stallMs = Math.max(stallMs, (window[i] ?? 0) - (window[i - 1] ?? 0));
      measured.push({ kind: fault.kind, stallMs, recoveryMs: firstAfter - fault.endedAt, servingMs: fault.servingMs });
    }
    client.close();
    return measured;
  } catch (error) {
    process.stderr.write(`bench: ${label}: host output (last 40 lines):\n${host.output.slice(-40).join('\n')}\n`);
    throw error;
  } finally {
    delivering.abort();
    host.child.kill('SIGTERM');
    await Promise.race([host.exited, sleep(30_000)]);
    host.child.kill('SIGKILL');
    await sandbox.stop();
    await kafka.dispose();
    await ferret.dispose();
    if (process.env['BENCH_KEEP_LOGS'] === '1')
      process.stderr.write(`bench: ${label}: the host's log is in ${path.join(dir, 'data', 'mailroute.log')}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: { label: string; measured: Measured[] }[] = [];
  if (baselineRef) {
    const tree = extractTree(baselineRef);
    try {
      results.push({ label: `baseline (${baselineRef})`, measured: await runScenario(`baseline ${baselineRef}`, tree.root) });
    } finally {
      tree.remove();
    }
  }
  results.push({ label: 'this checkout', measured: await runScenario('this checkout', workspaceRoot) });

  const s = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '–' : `${(ms / 1000).toFixed(1)} s`);
  console.log(
    `\nrecovery after SIGKILL + restart, ${rate} e-mails/s into 2 mailboxes, broker/store down ${downMs / 1000} s, host restarted at once`,
  );
  console.log('targets: recovery ≤ 10 s after the broker or store is back; serving ≤ 10 s after a host restart\n');
  console.log('| code | fault | stall (no new interaction) | fault end → first new interaction | host restart → SERVING |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const { label, measured } of results) {
    for (const m of measured) console.log(`| ${label} | ${m.kind} | ${s(m.stallMs)} | ${s(m.recoveryMs)} | ${s(m.servingMs)} |`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
