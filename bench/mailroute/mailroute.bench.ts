// The whole flow, end to end, in both modes of `npm start`: the all-in-one host as a real process
// (embedded: SQLite + journaled in-process bus; kafka: Kafka + FerretDB), a graph sandbox in this
// process standing in for Microsoft 365 (its demo directory, configured as a real tenant), and two
// agents on real desktop streams who accept every offer at once and reply.
// Measures per email: delivery into the sandbox mailbox → offer on an agent's stream, and accept →
// the reply visible in the mailbox's Sent Items (router → outbound-send → Graph); throughput =
// replies / (last reply − first delivery); the host's peak RSS (VmHWM).
// Run: npx nx run bench:mailroute, or node tools/scripts/run-ts.mjs bench/mailroute/mailroute.bench.ts
// Env: BENCH_MODES (embedded,kafka), BENCH_EMAILS (60), BENCH_RATE (5 emails/s), BENCH_TIMEOUT_SECONDS (300);
// Kafka mode starts a broker of its own; FerretDB comes from tools/test-infra unless MAILROUTE_TEST_MONGODB_URL names a running one.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metadata, createChannel, createClient } from 'nice-grpc';
import { AgentDesktopServiceDefinition, AgentPresence, OutgoingMessage, ReplyMode } from '@mailroute/contracts';
import { GraphSandboxAdminClient, demoProfile } from '@mailroute/graph-sandbox';
import {
  freePort,
  randomId,
  signInWithDeviceCode,
  startDedicatedFerretDb,
  startDedicatedKafka,
  startServiceProcess,
  startTestGraphSandbox,
  waitFor,
} from '@mailroute/testing';

const emails = Number(process.env['BENCH_EMAILS'] ?? 60);
const rate = Number(process.env['BENCH_RATE'] ?? 5);
const timeoutMs = Number(process.env['BENCH_TIMEOUT_SECONDS'] ?? 300) * 1000;
const modes = (process.env['BENCH_MODES'] ?? 'embedded,kafka')
  .split(',')
  .map((mode) => mode.trim())
  .filter(Boolean);
const support = 'support@contoso-demo.example';
const billing = 'billing@contoso-demo.example';

/**
 * Kafka of its own (a new consumer group on a long-lived broker would first read every event ever
 * published there) and FerretDB from tools/test-infra unless MAILROUTE_TEST_MONGODB_URL names one.
 */
async function infraEnv(): Promise<{ kafka: string; mongo: string; stop: () => Promise<void> }> {
  const kafka = await startDedicatedKafka();
  const mongo = process.env['MAILROUTE_TEST_MONGODB_URL'];
  if (mongo) return { kafka: kafka.brokers, mongo, stop: () => kafka.dispose() };
  const ferret = await startDedicatedFerretDb();
  return {
    kafka: kafka.brokers,
    mongo: ferret.url,
    stop: async () => {
      await kafka.dispose();
      await ferret.dispose();
    },
  };
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

interface Result {
  mode: string;
  replied: number;
  throughput: number;
  offerP50: number;
  offerP99: number;
  replyP50: number;
  replyP99: number;
  peakRssMb: number;
}

async function runMode(mode: string, infra: { kafka: string; mongo: string } | undefined): Promise<Result> {
  const { sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo' });
  const admin = new GraphSandboxAdminClient(endpoints.adminUrl);
  const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-bench-'));
  const routerPort = await freePort();
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
      agentSignIn: { authorityHost: endpoints.baseUrl, audience: demoProfile.desktopClientId },
      logLevel: 'warn',
      // Measure the system, not the poll wait (real tenants poll every 10 s at the least without change notifications).
      pollIntervalCapMs: 500,
      ...(mode === 'kafka' && infra
        ? {
            bus: { kind: 'kafka', brokers: infra.kafka.split(',') },
            store: { kind: 'mongodb', url: infra.mongo, database: randomId('bench').replace(/[^A-Za-z0-9_-]/g, '_') },
          }
        : {}),
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
          agents: [
            { id: 'alice', upn: 'alice@contoso-demo.example', queues: ['support'], capacity: 20 },
            { id: 'bob', upn: 'bob@contoso-demo.example', queues: ['support'], capacity: 20 },
          ],
        },
      ],
    }),
  );
  const host = startServiceProcess('apps/mailroute/src/main.ts', {
    MAILROUTE_CONFIG: configFile,
    NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
    DEMO_CLIENT_SECRET: demoProfile.clientSecret,
  });
  const abort = new AbortController();
  try {
    await waitFor(() => host.output.some((line) => line.startsWith('mailroute: ready')) || host.child.exitCode !== null, {
      timeoutMs: 120_000,
      description: 'the host',
    });
    if (host.child.exitCode !== null) throw new Error(`the host exited:\n${host.output.join('\n')}`);
    const tag = randomId('bench');
    const delivered = new Map<string, number>();
    const offered = new Map<string, number>();
    const accepted = new Map<string, number>();
    const visible = new Map<string, number>();
    for (const upn of ['alice@contoso-demo.example', 'bob@contoso-demo.example']) {
      const token = await signInWithDeviceCode(endpoints, admin, demoProfile.tenantId, demoProfile.desktopClientId, upn);
      const channel = createChannel(`127.0.0.1:${routerPort}`);
      const desktop = createClient(AgentDesktopServiceDefinition, channel, {
        '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
      });
      void (async () => {
        try {
          for await (const update of desktop.connect(
            { clientInstanceId: randomId('bench-desk'), initialPresence: AgentPresence.AGENT_PRESENCE_AVAILABLE },
            { signal: abort.signal },
          )) {
            if (update.event?.$case !== 'offer') continue;
            const offer = update.event.value;
            const subject = offer.interaction?.subject ?? '';
            if (subject.includes(tag)) offered.set(subject, Date.now());
            void (async () => {
              const { interaction } = await desktop.accept({ offerId: offer.offerId });
              if (!interaction) return;
              if (!interaction.subject.includes(tag)) {
                await desktop.complete({ interactionId: interaction.interactionId, dispositionCode: '', note: '' });
                return;
              }
              accepted.set(interaction.subject, Date.now());
              await desktop.reply({
                idempotencyKey: `bench-${interaction.interactionId}`,
                interactionId: interaction.interactionId,
                replyToGraphMessageId: '',
                mode: ReplyMode.REPLY_MODE_REPLY,
                content: OutgoingMessage.fromPartial({ bodyHtml: '<p>Thanks, on it.</p>' }),
                completeAfterSend: true,
              });
            })().catch(() => undefined);
          }
        } catch {
          // ends with the run
        } finally {
          channel.close();
        }
      })();
    }
    const started = Date.now();
    for (let i = 0; i < emails; i += 1) {
      const subject = `Order question ${tag} #${i}`;
      await admin.deliver(demoProfile.tenantId, i % 2 === 0 ? support : billing, {
        from: `customer${i}@customer.example`,
        subject,
        body: 'Where is it?',
      });
      delivered.set(subject, Date.now());
      const due = started + ((i + 1) * 1000) / rate;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    }
    await waitFor(
      async () => {
        for (const mailbox of [support, billing]) {
          for (const sent of (await admin.sent(demoProfile.tenantId, mailbox)).value) {
            const original = [...delivered.keys()].find((subject) => sent.subject.endsWith(subject));
            if (original && !visible.has(original)) visible.set(original, Date.now());
          }
        }
        return visible.size >= emails;
      },
      { timeoutMs, intervalMs: 250, description: `${emails} replies in Sent Items` },
    );
    const toOffer = [...offered].map(([subject, at]) => at - (delivered.get(subject) ?? at));
    const toReply = [...visible]
      .filter(([subject]) => accepted.has(subject))
      .map(([subject, at]) => at - (accepted.get(subject) ?? at));
    const status = readFileSync(`/proc/${host.child.pid}/status`, 'utf8');
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return {
      mode,
      replied: visible.size,
      throughput: visible.size / ((Math.max(...visible.values()) - started) / 1000),
      offerP50: percentile(toOffer, 50),
      offerP99: percentile(toOffer, 99),
      replyP50: percentile(toReply, 50),
      replyP99: percentile(toReply, 99),
      peakRssMb: peakKb / 1024,
    };
  } finally {
    abort.abort();
    await host.stop('SIGTERM');
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const infra = modes.includes('kafka') ? await infraEnv() : undefined;
  const results: Result[] = [];
  try {
    for (const mode of modes) {
      process.stderr.write(`bench: ${mode} mode, ${emails} emails at ${rate}/s…\n`);
      results.push(await runMode(mode, infra));
    }
  } finally {
    await infra?.stop();
  }
  const ms = (value: number) => `${Math.round(value)} ms`;
  console.log(
    `\nmailroute end to end: ${emails} emails at ${rate}/s into 2 mailboxes, 2 agents accepting at once and replying\n`,
  );
  console.log(
    '| mode | replied | replies/s | delivery → offer p50 | p99 | accept → reply in Sent Items p50 | p99 | host peak RSS |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    console.log(
      `| ${r.mode} | ${r.replied} | ${r.throughput.toFixed(2)} | ${ms(r.offerP50)} | ${ms(r.offerP99)} | ${ms(r.replyP50)} | ${ms(r.replyP99)} | ${r.peakRssMb.toFixed(0)} MB |`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
