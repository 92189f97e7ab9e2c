#!/usr/bin/env node
// `npm test`: every check and every test of the workspace, against real servers.
//   1. the generated contracts match proto/ (a stale generation fails here), every source file is
//      formatted by Prettier (tools/scripts/check-format.mjs; `npm run format` fixes it), and no file,
//      export or dependency is unused (knip: tools/scripts/check-unused.mjs);
//   2. the real Apache Kafka broker and FerretDB are installed (cached) and started once, and Debian's
//      chromium is installed for the browser tests when it is missing (apt-get, as root);
//   3. nx runs typecheck and lint, then every project's tests, with the servers' addresses in the env;
//   4. the servers are stopped by pid, whatever happened.
// Extra arguments go to `nx run-many` (e.g. `npm test -- --projects=messaging`).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const resultsDir = path.join(root, '.cache', 'test-results');
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`mailroute needs Node 24; this is ${process.version}. Run through npm (npm test), which uses the pinned node.`);
  process.exit(1);
}

const nx = path.join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
const run = (args, env = process.env) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [nx, ...args], { cwd: root, stdio: 'inherit', env });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });

const runScript = (script) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'tools', 'scripts', script)], { cwd: root, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });

const { startAll, stopAll } = await import(path.join(root, 'tools', 'test-infra', 'index.mjs'));
const { ensureChromium } = await import(path.join(root, 'tools', 'test-infra', 'chromium.mjs'));

let infra;
let stopping = false;
async function stopInfra() {
  if (stopping || !infra) return;
  stopping = true;
  await stopAll(infra).catch((error) => console.error(`test infra: stop failed: ${error.message}`));
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    void stopInfra().then(() => process.exit(130));
  });
}

rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });

let code = 1;
try {
  code = await run(['run', 'contracts:check-generated']);
  if (code === 0) code = await runScript('check-format.mjs');
  if (code === 0) code = await runScript('check-unused.mjs');
  if (code === 0) {
    await ensureChromium();
    infra = await startAll();
    const env = {
      ...process.env,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      MAILROUTE_TEST_KAFKA_BROKERS: infra.kafka.brokers,
      MAILROUTE_TEST_MONGODB_URL: infra.ferretdb.url,
    };
    // Checks run two at a time; test suites one at a time, because the integration suites share one
    // Kafka broker and one FerretDB, and on two cores their overlap only makes each slower.
    code = await run(
      ['run-many', '-t', 'typecheck', 'lint', '--parallel=2', '--outputStyle=static', ...process.argv.slice(2)],
      env,
    );
    if (code === 0) {
      code = await run(['run-many', '-t', 'test', '--parallel=1', '--outputStyle=static', ...process.argv.slice(2)], env);
    }
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  code = 1;
} finally {
  await stopInfra();
}

// One closing line over every jest run, for people and CI logs alike.
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of readdirSync(resultsDir, { withFileTypes: true }).filter((f) => f.name.endsWith('.json'))) {
  const result = JSON.parse(readFileSync(path.join(resultsDir, file.name), 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  skipped += result.numPendingTests + result.numTodoTests;
}
if (failed > 0 && code === 0) code = 1;
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(code);
