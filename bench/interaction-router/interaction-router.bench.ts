// interaction-router end to end: enqueue → offer latency (p50/p99), routing throughput and memory.
// One router (the real createServer: FerretDB store, Kafka bus, gRPC on 127.0.0.1) in this process;
// BENCH_AGENTS agents (capacity BENCH_CAPACITY) on real desktop streams over a socket, signed in with
// Entra-like RS256 tokens from a local key; BENCH_INTERACTIONS InboundEmail events published to
// Kafka at BENCH_RATE per second. Latency = publish of the InboundEmail → the offer arriving on the
// agent's stream (Kafka consume, rules, the store's claims and commit, the InteractionStateChanged
// event, the stream). Agents accept and complete each offer at once, so capacity keeps freeing.
// Throughput = interactions offered / (last offer − first publish). Memory = this process's RSS and
// heap after the run minus before the router started (the clients and Kafka producer are in it too).
// Kafka and FerretDB come from tools/test-infra unless MAILROUTE_TEST_KAFKA_BROKERS and
// MAILROUTE_TEST_MONGODB_URL name running ones; this file starts them and hands them to the router
// process through those two variables.
// Run: npx nx run bench:interaction-router, or node tools/scripts/run-ts.mjs bench/interaction-router/interaction-router.bench.ts
// BENCH_SCENARIO=failover (failover-bench.ts: one of two router processes killed, publish → offer of the e-mail after it)
// and BENCH_SCENARIO=sustained (sustained-bench.ts: 20 e-mails/s with free agents, on FerretDB and embedded) run their own files.
// Env: BENCH_SCENARIO (steady | backlog: all e-mails at once, defaults 5,000 e-mails and 200 agents | failover | sustained), BENCH_INTERACTIONS
// (default 300), BENCH_AGENTS (20), BENCH_CAPACITY (5), BENCH_RATE (20/s), BENCH_STORE (mongodb | embedded), BENCH_REPLY (1),
// BENCH_RAW_WRITES (2000), BENCH_RAW_CONCURRENCY (8), BENCH_TIMEOUT_SECONDS (300).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { startBenchInfra, testInfraEnv } from '@mailroute/testing';

const root = path.resolve(__dirname, '../..');
/** The router's bench body for BENCH_SCENARIO (the router's own bench code, apps/interaction-router/bench). */
const scenarioFiles: Record<string, string> = { failover: 'failover-bench.ts', sustained: 'sustained-bench.ts' };
const benchFile = scenarioFiles[process.env['BENCH_SCENARIO'] ?? ''] ?? 'router-bench.ts';

async function main(): Promise<number> {
  const infra = await startBenchInfra();
  try {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', path.join(root, 'apps/interaction-router/bench', benchFile)],
      {
        cwd: root,
        stdio: 'inherit',
        env: {
          ...process.env,
          TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.base.json'),
          [testInfraEnv.kafkaBrokers]: infra.kafkaBrokers.join(','),
          [testInfraEnv.mongoUrl]: infra.mongoUrl,
        },
      },
    );
    const [code] = (await once(child, 'exit')) as [number | null];
    return code ?? 1;
  } finally {
    await infra.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
