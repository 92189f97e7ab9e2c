#!/usr/bin/env node
// Usage: node tools/test-infra/cli.mjs install|start|stop|status [kafka|ferretdb|all]
//        node tools/test-infra/cli.mjs install chromium   (Debian's chromium for the browser tests; apt-get as root)
//
// start  prints KAFKA_BROKERS=... / MONGODB_URL=... on stdout (progress goes to stderr)
//        and records pids, addresses and log files in .cache/test-infra/state.json;
//        services recorded there that are still alive and answering are reused.
// stop   stops the recorded processes (and orphaned ones running from the cache, but not those
//        owned by a live Node process such as a test run), removes their run dirs and the state.
// status prints what is running; exit code 0 if every named service is up and answering, 3 otherwise.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  CACHE_DIR,
  SERVICES,
  STATE_FILE,
  envFromState,
  ferretDbAnswers,
  installFerretDb,
  installKafka,
  isAlive,
  kafkaAnswers,
  processCmdline,
  processMatch,
  startAll,
  stopAll,
  stopProcess,
} from './index.mjs';
import { ensureChromium } from './chromium.mjs';

// kafkajs 2.2.4 calls setTimeout with a negative delay (requestQueue.scheduleCheckPendingRequests),
// which Node 24 reports as a TimeoutNegativeWarning. It is harmless: keep it out of the CLI output.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'TimeoutNegativeWarning') process.stderr.write(`${w.name}: ${w.message}\n`);
});

const USAGE = 'usage: node tools/test-infra/cli.mjs install|start|stop|status [kafka|ferretdb|all] | install chromium';
const err = (line) => process.stderr.write(line + '\n');

/** @returns {import('./index.mjs').InfraState} */
function readState() {
  try {
    const s = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
    if (s && s.version === 1) return s;
  } catch {
    /* missing or unreadable */
  }
  return { version: 1 };
}

function writeState(state) {
  const live = SERVICES.some((s) => state[s]);
  if (!live) {
    fs.rmSync(STATE_FILE, { force: true });
    return;
  }
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${STATE_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  fs.renameSync(tmp, STATE_FILE);
}

/** The recorded process is ours (pid alive and command line matches). */
function recordedAlive(h) {
  if (!isAlive(h.pid)) return false;
  const cmd = processCmdline(h.pid);
  return cmd === null || cmd.includes(processMatch(h.name));
}

async function answers(h) {
  return h.name === 'kafka' ? kafkaAnswers(h.brokers) : ferretDbAnswers(h.url);
}

/** Is `pid` a Node.js process? (Node 24 names its main thread "MainThread", so look at the executable.) */
function isNode(pid) {
  try {
    if (/^node/.test(path.basename(fs.readlinkSync(`/proc/${pid}/exe`)))) return true;
  } catch {
    /* not readable */
  }
  const argv0 = processCmdline(pid)?.split(' ')[0] ?? '';
  return /^node/.test(path.basename(argv0));
}

/**
 * Live processes whose command line references this cache's jars/binary (Linux only).
 * `orphan` is true when no live Node process owns them any more (parent is init or gone, or is
 * not node): those were started by a CLI `start` that lost its state, or by a killed test run.
 * Non-orphans belong to a running test process (e.g. jest globalSetup calling startAll) and are
 * left alone.
 * @returns {{ pid: number, ppid: number, orphan: boolean, cmdline: string }[]}
 */
function cacheProcesses(name) {
  const match = processMatch(name);
  let entries = [];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const found = [];
  for (const pid of entries.map(Number)) {
    if (pid === process.pid || !isAlive(pid)) continue;
    const cmdline = processCmdline(pid);
    if (!cmdline?.includes(match)) continue;
    let ppid = 0;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      continue;
    }
    found.push({ pid, ppid, orphan: ppid <= 1 || !isAlive(ppid) || !isNode(ppid), cmdline });
  }
  return found;
}

/** Simple cross-process lock so two CLI invocations don't install/start/stop at once. */
async function withLock(fn) {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const lock = path.join(CACHE_DIR, 'cli.lock');
  let announced = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const holder = Number(fs.readFileSync(lock, 'utf8').trim() || 0);
      if (!isAlive(holder)) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (!announced) err(`test-infra: waiting for another test-infra command (pid ${holder})`);
      announced = true;
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

async function cmdInstall(services) {
  if (services.includes('kafka')) await installKafka();
  if (services.includes('ferretdb')) await installFerretDb();
  return 0;
}

async function cmdStart(services) {
  const state = readState();
  const toStart = [];
  for (const s of services) {
    const h = state[s];
    if (h) {
      if (recordedAlive(h) && (await answers(h))) {
        err(`${s}: already running, pid ${h.pid} on ${h.name === 'kafka' ? h.brokers : h.url} (reused)`);
        continue;
      }
      err(`${s}: recorded pid ${h.pid} is gone or not answering; replacing it`);
      await stopAll({ version: 1, [s]: h });
      delete state[s];
    }
    toStart.push(s);
  }
  try {
    if (toStart.length) Object.assign(state, await startAll({ services: toStart }), { version: 1 });
  } finally {
    writeState(state);
  }
  const env = envFromState(state);
  for (const s of services) {
    const key = s === 'kafka' ? 'KAFKA_BROKERS' : 'MONGODB_URL';
    if (env[key]) process.stdout.write(`${key}=${env[key]}\n`);
  }
  return 0;
}

async function cmdStop(services) {
  const state = readState();
  for (const s of services) {
    if (state[s]) {
      await stopAll({ version: 1, [s]: state[s] });
      delete state[s];
    }
  }
  for (const s of services) {
    for (const p of cacheProcesses(s)) {
      if (!p.orphan) {
        err(`${s}: pid ${p.pid} belongs to running process ${p.ppid} (not started by this CLI); left alone`);
        continue;
      }
      const r = await stopProcess(p.pid, { match: processMatch(s) });
      if (r.wasRunning) err(`${s}: stopped orphaned pid ${p.pid} (not in the state file)`);
    }
  }
  writeState(state);
  if (SERVICES.every((s) => services.includes(s))) {
    // Also drop run directories left behind by failed starts or a lost state file, unless a
    // live process (e.g. one started by a running test suite) still uses them.
    const inUse = SERVICES.flatMap((s) => cacheProcesses(s).map((p) => p.cmdline));
    for (const s of SERVICES) if (state[s]?.runDir) inUse.push(/** @type {string} */ (state[s]?.runDir) + path.sep);
    for (const e of fs.readdirSync(CACHE_DIR)) {
      const dir = path.join(CACHE_DIR, e);
      if (e.startsWith('run-') && !inUse.some((c) => c.includes(dir + path.sep))) {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  if (!services.some((s) => state[s])) err(`test-infra: ${services.join(' and ')} stopped`);
  return 0;
}

async function cmdStatus(services) {
  const state = readState();
  let ok = true;
  for (const s of services) {
    const h = state[s];
    if (!h) {
      const others = cacheProcesses(s).map((p) =>
        p.orphan ? `orphaned pid ${p.pid}: run stop` : `pid ${p.pid} owned by running process ${p.ppid}`,
      );
      console.log(`${s}: not running${others.length ? ` from the CLI (${others.join('; ')})` : ''}`);
      ok = false;
      continue;
    }
    const addr = s === 'kafka' ? h.brokers : h.url;
    if (!recordedAlive(h)) {
      console.log(`${s}: DEAD (recorded pid ${h.pid}, ${addr}); log: ${h.logFile}`);
      ok = false;
      continue;
    }
    const up = await answers(h);
    ok &&= up;
    console.log(
      `${s}: ${up ? 'running' : 'NOT ANSWERING'}, pid ${h.pid}, ${addr}, ${h.version}, since ${h.startedAt}; log: ${h.logFile}`,
    );
  }
  const env = envFromState(state);
  for (const [k, v] of Object.entries(env)) console.log(`${k}=${v}`);
  return ok ? 0 : 3;
}

async function main(argv) {
  const [command, target = 'all', ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'install' && target === 'chromium' && !rest.length) {
    const { executable } = await ensureChromium();
    console.log(executable);
    return 0;
  }
  if (rest.length || !['all', ...SERVICES].includes(target)) {
    err(USAGE);
    return 2;
  }
  const services = target === 'all' ? [...SERVICES] : [target];
  switch (command) {
    case 'install':
      return withLock(() => cmdInstall(services));
    case 'start':
      return withLock(() => cmdStart(services));
    case 'stop':
      return withLock(() => cmdStop(services));
    case 'status':
      return cmdStatus(services);
    default:
      err(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    err(e?.stack && process.env.TEST_INFRA_DEBUG ? e.stack : String(e?.message ?? e));
    process.exit(1);
  },
);
