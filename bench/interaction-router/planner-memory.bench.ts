// interaction-router planner memory: heap and RSS with a large backlog (default 10 tenants × 10,000
// waiting interactions and 2,000 agents) held in the planner's views, with the per-tenant cap and
// without it. Spawns apps/interaction-router/bench/planner-memory-bench.ts (the bench project may not
// import an app's sources). No servers needed (embedded store in a temporary file).
// Run: npx nx run bench:router-planner-memory, or node tools/scripts/run-ts.mjs bench/interaction-router/planner-memory.bench.ts
// Env: BENCH_TENANTS (default 10), BENCH_WAITING per tenant (10,000), BENCH_AGENTS in all (2,000).
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const child = spawn(
  process.execPath,
  ['--expose-gc', '--import', 'tsx', path.join(root, 'apps/interaction-router/bench/planner-memory-bench.ts')],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.base.json') },
  },
);
child.on('exit', (code) => process.exit(code ?? 1));
