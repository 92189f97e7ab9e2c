// interaction-router queue metrics: what one snapshot of the queue gauges (two scans of the
// interactions per tenant, the same computation as GetQueueStatistics) costs on FerretDB v1, and
// what one scrape of /metrics costs. Spawns apps/interaction-router/bench/queue-metrics-bench.ts
// (the bench project may not import an app's sources).
// Run: node tools/scripts/run-ts.mjs bench/interaction-router/queue-metrics.bench.ts
// Env: BENCH_TENANTS (default 2), BENCH_QUEUES (5), BENCH_INTERACTIONS per tenant (300), BENCH_SNAPSHOTS (5);
// MAILROUTE_TEST_MONGODB_URL names a running FerretDB/MongoDB (else tools/test-infra starts one).
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const child = spawn(
  process.execPath,
  ['--import', 'tsx', path.join(root, 'apps/interaction-router/bench/queue-metrics-bench.ts')],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.base.json') },
  },
);
child.on('exit', (code) => process.exit(code ?? 1));
