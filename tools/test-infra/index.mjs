// Test infrastructure: a real single-node Apache Kafka broker (jars from Maven
// Central) and FerretDB (MongoDB wire protocol over SQLite, built from the Go
// module proxy), installed into <repo>/.cache/test-infra and run as detached
// child processes on free 127.0.0.1 ports.
//
// Plain ESM for Node 24, no build step. See README.md beside this file.

import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createTestCa } from './test-ca.mjs';

export { createTestCa };

/** Repository root (two levels above this file). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where jars, binaries, run directories and the CLI state live. */
export const CACHE_DIR = path.resolve(process.env.TEST_INFRA_CACHE_DIR || path.join(REPO_ROOT, '.cache/test-infra'));
/** State file written by `cli.mjs start`. */
export const STATE_FILE = path.join(CACHE_DIR, 'state.json');

const KAFKA_TOOL_DIR = path.join(REPO_ROOT, 'tools/kafka');
const KAFKA_POM = path.join(KAFKA_TOOL_DIR, 'pom.xml');
const KAFKA_LOG4J = path.join(KAFKA_TOOL_DIR, 'log4j.properties');
const FERRETDB_TOOL_DIR = path.join(REPO_ROOT, 'tools/ferretdb');
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
// Any Kafka base64 UUID; fixed so that `format --ignore-formatted` can reuse a given data dir.
const KAFKA_CLUSTER_ID = 'bWFpbHJvdXRlLXRlc3QtMQ';
const MIN_JAVA = 17;
const MIN_GO = [1, 24];
const POLL_MS = 200;

/** Kafka version, read from tools/kafka/pom.xml (single source of truth). */
export const KAFKA_VERSION = readPinned(KAFKA_POM, /<kafka\.version>([^<]+)<\/kafka\.version>/, 'kafka.version');
/** FerretDB version, read from tools/ferretdb/go.mod. */
export const FERRETDB_VERSION = readPinned(
  path.join(FERRETDB_TOOL_DIR, 'go.mod'),
  /github\.com\/FerretDB\/FerretDB (v[^\s]+)/,
  'github.com/FerretDB/FerretDB',
);

/**
 * @typedef {{ log?: (line: string) => void, installed?: boolean }} CommonOptions
 *   log: progress sink (default: stderr, silenced by TEST_INFRA_QUIET=1);
 *   installed: internal, the caller already ran install (skips its progress line).
 * @typedef {{ name: 'kafka', version: string, dir: string, libsDir: string, cached: boolean }} KafkaInstall
 * @typedef {{ name: 'ferretdb', version: string, dir: string, binary: string, cached: boolean }} FerretDbInstall
 * @typedef {{ name: 'kafka', pid: number, brokers: string, port: number, controllerPort: number,
 *   logFile: string, stdoutFile: string, dataDir: string, runDir: string | null, version: string,
 *   startedAt: string, secure?: KafkaSecureListeners }} KafkaHandle
 * @typedef {{ saslSslBrokers: string, sslBrokers: string, users: { name: string, password: string }[],
 *   caFile: string, clientCertFile: string, clientKeyFile: string }} KafkaSecureListeners
 * @typedef {{ name: 'ferretdb', pid: number, url: string, port: number, logFile: string,
 *   dataDir: string, runDir: string | null, version: string, startedAt: string }} FerretDbHandle
 * @typedef {{ version: 1, kafka?: KafkaHandle, ferretdb?: FerretDbHandle }} InfraState
 */

// ---------------------------------------------------------------------------
// small helpers

const noop = () => undefined;

function readPinned(file, re, what) {
  const m = fs.readFileSync(file, 'utf8').match(re);
  if (!m) throw new Error(`test-infra: cannot find ${what} in ${file}`);
  return m[1];
}

/** @param {CommonOptions} [opts] */
function logger(opts) {
  if (opts?.log) return opts.log;
  if (process.env.TEST_INFRA_QUIET === '1') return noop;
  return (line) => process.stderr.write(line + '\n');
}

function timer() {
  const t0 = performance.now();
  return () => `(${((performance.now() - t0) / 1000).toFixed(1)}s)`;
}

function hashFiles(files) {
  const h = createHash('sha256');
  for (const f of files) h.update(f).update('\0').update(fs.readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 16);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function writeFileAtomic(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Last `lines` lines of a file, or '' if it does not exist. */
export function tailFile(file, lines = 40) {
  let text;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      text = buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
  return text
    .split('\n')
    .slice(-lines - 1)
    .join('\n')
    .trimEnd();
}

function logTails(files) {
  return files
    .map((f) => {
      const t = tailFile(f);
      return t ? `\n--- tail of ${f} ---\n${t}` : '';
    })
    .join('');
}

function onPath(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

// ---------------------------------------------------------------------------
// prerequisites

/** @returns {{ java: string, major: number }} */
export function checkJava() {
  const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin/java') : onPath('java');
  const hint = 'Kafka needs a Java 17+ runtime: `apt-get install openjdk-17-jre-headless` (Debian/Ubuntu), or set JAVA_HOME.';
  if (!java || !fs.existsSync(java)) throw new Error(`test-infra: \`java\` not found. ${hint}`);
  const r = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const out = `${r.stderr || ''}${r.stdout || ''}`;
  const m = out.match(/version "(\d+)(?:\.(\d+))?/);
  if (r.status !== 0 || !m) throw new Error(`test-infra: cannot run \`${java} -version\`: ${out || r.error}. ${hint}`);
  const major = m[1] === '1' ? Number(m[2]) : Number(m[1]);
  if (major < MIN_JAVA) throw new Error(`test-infra: ${java} is Java ${major}, too old. ${hint}`);
  return { java, major };
}

/** @returns {string} path of mvn */
export function checkMaven() {
  const mvn = onPath('mvn');
  if (!mvn) {
    throw new Error(
      'test-infra: `mvn` (Apache Maven) not found; it fetches the Kafka jars from Maven Central. ' +
        'Install it with `apt-get install maven` (Debian/Ubuntu).',
    );
  }
  return mvn;
}

/** @returns {{ go: string, version: string }} */
export function checkGo() {
  const go = onPath('go');
  const hint =
    `FerretDB is built from source with Go ${MIN_GO.join('.')}+: install it from https://go.dev/dl/ ` +
    "(Debian bookworm's `apt-get install golang` is 1.19, too old; newer distributions' `golang` package works).";
  if (!go) throw new Error(`test-infra: \`go\` not found. ${hint}`);
  const r = spawnSync(go, ['env', 'GOVERSION'], { encoding: 'utf8' });
  const version = (r.stdout || '').trim();
  const m = version.match(/^go(\d+)\.(\d+)/);
  if (r.status !== 0 || !m) throw new Error(`test-infra: cannot run \`go env GOVERSION\`: ${r.stderr}. ${hint}`);
  const [maj, min] = [Number(m[1]), Number(m[2])];
  if (maj < MIN_GO[0] || (maj === MIN_GO[0] && min < MIN_GO[1])) {
    throw new Error(`test-infra: ${go} is ${version}, too old. ${hint}`);
  }
  return { go, version };
}

// ---------------------------------------------------------------------------
// installation (idempotent, cached by version + hash of the recipe files)

function markerOk(marker, key) {
  return readJson(marker)?.key === key;
}

/**
 * Fetch the Kafka broker jars into <cache>/kafka-<version>/libs (no-op when cached).
 * @param {CommonOptions} [opts]
 * @returns {Promise<KafkaInstall>}
 */
export async function installKafka(opts = {}) {
  const log = logger(opts);
  const elapsed = timer();
  const dir = path.join(CACHE_DIR, `kafka-${KAFKA_VERSION}`);
  const libsDir = path.join(dir, 'libs');
  const marker = path.join(dir, '.installed.json');
  const key = hashFiles([KAFKA_POM]);
  const result = { name: /** @type {const} */ ('kafka'), version: KAFKA_VERSION, dir, libsDir, cached: true };
  if (markerOk(marker, key) && fs.existsSync(libsDir)) {
    log(`kafka: jars cached, ${KAFKA_VERSION} ${elapsed()}`);
    return result;
  }
  const mvn = checkMaven();
  checkJava();
  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(dir, 'libs.tmp-'));
  const logFile = path.join(dir, 'install.log');
  log(`kafka: fetching kafka_2.13 ${KAFKA_VERSION} jars with mvn (log: ${logFile})`);
  const args = [
    '-B',
    '-q',
    '-Dstyle.color=never',
    '-f',
    KAFKA_POM,
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    '-DincludeScope=runtime',
    `-DoutputDirectory=${tmp}`,
  ];
  const code = await runToFile(mvn, args, { cwd: KAFKA_TOOL_DIR, logFile });
  const jars = fs.existsSync(tmp) ? fs.readdirSync(tmp) : [];
  const need = [`kafka_2.13-${KAFKA_VERSION}.jar`, `kafka-clients-${KAFKA_VERSION}.jar`, 'slf4j-reload4j-1.7.36.jar'];
  const missing = need.filter((j) => !jars.includes(j));
  if (code !== 0 || missing.length) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `test-infra: fetching Kafka jars failed (mvn exit ${code}${missing.length ? `, missing ${missing.join(', ')}` : ''})` +
        logTails([logFile]),
    );
  }
  fs.rmSync(libsDir, { recursive: true, force: true });
  fs.renameSync(tmp, libsDir);
  writeFileAtomic(
    marker,
    JSON.stringify({ key, version: KAFKA_VERSION, jars: jars.length, installedAt: new Date().toISOString() }, null, 2),
  );
  log(`kafka: ${jars.length} jars installed in ${libsDir} ${elapsed()}`);
  return { ...result, cached: false };
}

/**
 * Build the FerretDB wrapper (tools/ferretdb) into <cache>/ferretdb-<version>/ferretdb (no-op when cached).
 * @param {CommonOptions} [opts]
 * @returns {Promise<FerretDbInstall>}
 */
export async function installFerretDb(opts = {}) {
  const log = logger(opts);
  const elapsed = timer();
  const dir = path.join(CACHE_DIR, `ferretdb-${FERRETDB_VERSION}`);
  const binary = path.join(dir, 'ferretdb');
  const marker = path.join(dir, '.installed.json');
  const key = hashFiles(
    [
      'go.mod',
      'go.sum',
      ...fs
        .readdirSync(FERRETDB_TOOL_DIR)
        .filter((f) => f.endsWith('.go'))
        .sort(),
    ].map((f) => path.join(FERRETDB_TOOL_DIR, f)),
  );
  const result = { name: /** @type {const} */ ('ferretdb'), version: FERRETDB_VERSION, dir, binary, cached: true };
  if (markerOk(marker, key) && fs.existsSync(binary)) {
    log(`ferretdb: binary cached, ${FERRETDB_VERSION} ${elapsed()}`);
    return result;
  }
  const { go } = checkGo();
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${binary}.tmp-${process.pid}`;
  const logFile = path.join(dir, 'install.log');
  log(`ferretdb: building FerretDB ${FERRETDB_VERSION} with go (takes a few minutes cold; log: ${logFile})`);
  const code = await runToFile(go, ['build', '-trimpath', '-mod=readonly', '-o', tmp, '.'], {
    cwd: FERRETDB_TOOL_DIR,
    logFile,
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: `${process.env.GOFLAGS || ''} -buildvcs=false`.trim() },
  });
  if (code !== 0 || !fs.existsSync(tmp)) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`test-infra: building FerretDB failed (go exit ${code})` + logTails([logFile]));
  }
  // The wrapper's own tests (its _id index must be the one SQLite uses) run whenever it is rebuilt.
  const tested = await runToFile(go, ['test', '-mod=readonly', './...'], {
    cwd: FERRETDB_TOOL_DIR,
    logFile,
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: `${process.env.GOFLAGS || ''} -buildvcs=false`.trim() },
  });
  if (tested !== 0) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`test-infra: the FerretDB wrapper's tests failed (go exit ${tested})` + logTails([logFile]));
  }
  fs.renameSync(tmp, binary);
  writeFileAtomic(marker, JSON.stringify({ key, version: FERRETDB_VERSION, installedAt: new Date().toISOString() }, null, 2));
  log(`ferretdb: built ${binary} ${elapsed()}`);
  return { ...result, cached: false };
}

/** Run a command with stdout+stderr appended to logFile; resolves to the exit code. */
function runToFile(cmd, args, { cwd, logFile, env = process.env }) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n$ ${cmd} ${args.join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', fd, fd] });
    child.on('error', (err) => {
      fs.writeSync(fd, `${err}\n`);
      resolve(-1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
  }).finally(() => fs.closeSync(fd));
}

// ---------------------------------------------------------------------------
// processes

/** Free TCP ports on 127.0.0.1, distinct from each other (listen on port 0, then close). */
export async function freePorts(count = 1) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve(undefined));
      });
    }
    return servers.map((s) => /** @type {net.AddressInfo} */ (s.address()).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve(undefined)))));
  }
}

/** True if `pid` is a live (non-zombie) process. */
export function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may contain spaces/parens.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no procfs (not Linux): trust kill(0)
  }
}

/** Command line of a process (Linux), or null. */
export function processCmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return null;
  }
}

/**
 * SIGTERM `pid`, SIGKILL it after `timeoutMs`, and wait until it is gone.
 * With `match`, the process is only signalled if its command line contains that string
 * (protects against a recycled pid from a stale state file).
 * @param {number} pid
 * @param {{ timeoutMs?: number, match?: string }} [opts]
 * @returns {Promise<{ pid: number, wasRunning: boolean, signal: 'SIGTERM' | 'SIGKILL' | null, elapsedMs: number }>}
 */
export async function stopProcess(pid, { timeoutMs = 15_000, match } = {}) {
  const t0 = performance.now();
  const done = (wasRunning, signal) => ({ pid, wasRunning, signal, elapsedMs: Math.round(performance.now() - t0) });
  if (!isAlive(pid)) return done(false, null);
  if (match) {
    const cmd = processCmdline(pid);
    if (cmd !== null && !cmd.includes(match)) return done(false, null);
  }
  const send = (sig) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  send('SIGTERM');
  const deadline = t0 + timeoutMs;
  while (performance.now() < deadline) {
    if (!isAlive(pid)) return done(true, 'SIGTERM');
    await sleep(50);
  }
  send('SIGKILL');
  const killDeadline = performance.now() + 10_000;
  while (isAlive(pid)) {
    if (performance.now() > killDeadline) throw new Error(`test-infra: pid ${pid} survived SIGKILL`);
    await sleep(50);
  }
  return done(true, 'SIGKILL');
}

/**
 * Spawn a detached process (own process group, outlives the parent) with stdout+stderr in `outFile`.
 * `exited` rejects as soon as the child exits (used to fail fast during readiness polling).
 */
function spawnDetached(cmd, args, { cwd, outFile, env = process.env }) {
  const fd = fs.openSync(outFile, 'a');
  let child;
  try {
    child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  /** @type {Promise<never>} */
  const exited = new Promise((_, reject) => {
    child.once('error', (err) => reject(err));
    child.once('exit', (code, signal) => reject(new Error(`exited early (code ${code}, signal ${signal})`)));
  });
  exited.catch(noop); // handled by whoever races on it
  child.unref();
  return { child, exited };
}

/** Resolve when something accepts TCP connections on 127.0.0.1:port (one attempt). */
function tcpProbe(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const finish = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => finish(false));
    sock.once('connect', () => finish(true));
    sock.once('error', () => finish(false));
  });
}

/**
 * Poll `check` every POLL_MS until it resolves truthy, the child exits, or the deadline passes.
 * @param {{ timeoutMs: number, exited: Promise<never>, check: () => Promise<boolean> }} p
 */
async function pollUntil({ timeoutMs, exited, check }) {
  const deadline = performance.now() + timeoutMs;
  let lastError;
  while (performance.now() < deadline) {
    const remaining = Math.max(1, deadline - performance.now());
    try {
      if (await withTimeout(Promise.race([check(), exited]), remaining, 'readiness check')) return;
    } catch (err) {
      if (/exited early|spawn|ENOENT/.test(String(err?.message))) throw err;
      lastError = err;
    }
    await Promise.race([sleep(POLL_MS), exited]);
  }
  throw new Error(`not ready within ${timeoutMs} ms${lastError ? ` (last error: ${lastError.message})` : ''}`);
}

function newRunDir() {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const id = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
  const dir = path.join(CACHE_DIR, `run-${id}`);
  fs.mkdirSync(dir);
  return dir;
}

// ---------------------------------------------------------------------------
// Kafka

function kafkaServerProperties({ port, controllerPort, logDirs, secure }) {
  const secureListeners = secure ? `,SASL_SSL://127.0.0.1:${secure.saslSslPort},SSL://127.0.0.1:${secure.sslPort}` : '';
  return `# Generated by tools/test-infra: single-node combined KRaft broker for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${secureListeners}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}${secureListeners}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${secure ? ',SASL_SSL:SASL_SSL,SSL:SSL' : ''}
${secure ? kafkaSecureListenerProperties(secure) : ''}log.dirs=${logDirs}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
`;
}

/**
 * The SASL_SSL listener (PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER with Kafka's unsecured-JWS
 * validator, which accepts any unsigned token with a \`sub\`) and the SSL listener that requires a
 * client certificate, both with the test CA's broker certificate. PLAIN users live in the JAAS line;
 * SCRAM users are added by \`StorageTool format --add-scram\`.
 */
function kafkaSecureListenerProperties({ keyStoreFile, caFile, users }) {
  const plainUsers = users.map((user) => `user_${user.name}="${user.password}"`).join(' ');
  return `ssl.keystore.type=PEM
ssl.keystore.location=${keyStoreFile}
ssl.truststore.type=PEM
ssl.truststore.location=${caFile}
ssl.endpoint.identification.algorithm=
listener.name.ssl.ssl.client.auth=required
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
`;
}

/**
 * Kafka readiness: metadata answers, then a topic/produce/consumer-group round trip works
 * (the group coordinator on a single broker is the usual source of flakes).
 */
async function kafkaRoundTrip(brokers, { timeoutMs = 30_000 } = {}) {
  const { Kafka, logLevel, Partitioners } = (await import('kafkajs')).default;
  const kafka = new Kafka({
    clientId: 'test-infra-readiness',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 10_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (!cluster.brokers.length) return false;
  } catch (err) {
    await admin.disconnect().catch(noop);
    throw err;
  }
  const id = randomBytes(4).toString('hex');
  const topic = `test-infra-ready-${id}`;
  const groupId = `test-infra-ready-${id}`;
  const retrying = new Kafka({
    clientId: 'test-infra-readiness',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 30 },
  });
  const producer = retrying.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  const consumer = retrying.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 100 });
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: id }] });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await withTimeout(
      new Promise((resolve, reject) => {
        consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
        consumer
          .run({
            autoCommit: true,
            eachMessage: async ({ message }) => {
              if (message.value?.toString() === id) resolve(undefined);
            },
          })
          .catch(reject);
      }),
      timeoutMs,
      'consumer group round trip',
    );
    return true;
  } finally {
    await consumer.disconnect().catch(noop);
    await producer.disconnect().catch(noop);
    await admin.deleteGroups([groupId]).catch(noop);
    await admin.deleteTopics({ topics: [topic], timeout: 5000 }).catch(noop);
    await admin.disconnect().catch(noop);
  }
}

/** Quick health check of a running broker (metadata only). */
export async function kafkaAnswers(brokers, timeoutMs = 3000) {
  const { Kafka, logLevel } = (await import('kafkajs')).default;
  const admin = new Kafka({
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  try {
    await withTimeout(admin.connect(), timeoutMs, 'connect');
    const c = await withTimeout(admin.describeCluster(), timeoutMs, 'describeCluster');
    return c.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(noop);
  }
}

/**
 * Start a single-node KRaft broker on free ports and wait until a consumer group round trip works.
 * @param {CommonOptions & { dataDir?: string, timeoutMs?: number, runDir?: string,
 *   secure?: { users?: { name: string, password: string }[] } }} [opts]
 *   dataDir: where config, logs and the Kafka log.dirs go (default: a fresh `<cache>/run-<id>/kafka`).
 *   secure: also a SASL_SSL listener (PLAIN and SCRAM-SHA-256/512 for each user, OAUTHBEARER with
 *   unsigned tokens) and an SSL listener that requires a client certificate, with a CA made for this
 *   broker; the handle's `secure` has their addresses, the CA file and a client certificate.
 * @returns {Promise<KafkaHandle>}
 */
export async function startKafka(opts = {}) {
  const log = logger(opts);
  const elapsed = timer();
  const timeoutMs = opts.timeoutMs ?? Number(process.env.TEST_INFRA_KAFKA_TIMEOUT_MS || 120_000);
  const { libsDir } = await installKafka({ log: opts.installed ? noop : log });
  const { java } = checkJava();
  let runDir = null;
  let dataDir = opts.dataDir && path.resolve(opts.dataDir);
  if (!dataDir) {
    runDir = opts.runDir ?? newRunDir();
    dataDir = path.join(runDir, 'kafka');
  }
  const logsDir = path.join(dataDir, 'logs');
  fs.mkdirSync(logsDir, { recursive: true });
  const logFile = path.join(logsDir, 'server.log');
  const stdoutFile = path.join(logsDir, 'kafka.out');
  const configFile = path.join(dataDir, 'server.properties');
  /** @type {null | { keyStoreFile: string, caFile: string, users: { name: string, password: string }[], saslSslPort?: number, sslPort?: number }} */
  let secure = null;
  /** @type {null | { caFile: string, clientCertFile: string, clientKeyFile: string }} */
  let tls = null;
  if (opts.secure) {
    const ca = createTestCa(path.join(dataDir, 'tls'), { name: 'mailroute test Kafka CA' });
    const broker = ca.issue('broker');
    const client = ca.issue('client');
    const keyStoreFile = path.join(ca.dir, 'broker-keystore.pem');
    fs.writeFileSync(keyStoreFile, broker.key + broker.cert, { mode: 0o600 });
    secure = { keyStoreFile, caFile: ca.caFile, users: opts.secure.users ?? [] };
    tls = { caFile: ca.caFile, clientCertFile: client.certFile, clientKeyFile: client.keyFile };
  }
  const jvmCommon = [
    `-Dlog4j.configuration=${pathToFileURL(KAFKA_LOG4J).href}`,
    `-Dkafka.logs.dir=${logsDir}`,
    '-Djava.awt.headless=true',
    '-cp',
    path.join(libsDir, '*'),
  ];

  for (let attempt = 1; ; attempt++) {
    const [port, controllerPort, saslSslPort, sslPort] = await freePorts(secure ? 4 : 2);
    if (secure) Object.assign(secure, { saslSslPort, sslPort });
    fs.writeFileSync(
      configFile,
      kafkaServerProperties({ port, controllerPort, logDirs: path.join(dataDir, 'kafka-logs'), secure }),
    );

    const code = await runToFile(
      java,
      [
        '-Xmx256m',
        '-XX:TieredStopAtLevel=1',
        ...jvmCommon,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        KAFKA_CLUSTER_ID,
        '-c',
        configFile,
        '--ignore-formatted',
        ...(secure?.users ?? []).flatMap((user) =>
          ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => [
            '--add-scram',
            `${mechanism}=[name=${user.name},password=${user.password}]`,
          ]),
        ),
      ],
      { cwd: dataDir, logFile: stdoutFile },
    );
    if (code !== 0) throw new Error(`test-infra: kafka storage format failed (exit ${code})` + logTails([stdoutFile, logFile]));
    log(`kafka: storage formatted in ${dataDir} ${elapsed()}`);

    const heap = (process.env.TEST_INFRA_KAFKA_HEAP_OPTS || '-Xms256m -Xmx512m').split(/\s+/).filter(Boolean);
    const { child, exited } = spawnDetached(
      java,
      [
        ...heap,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:+ExitOnOutOfMemoryError',
        ...jvmCommon,
        'kafka.Kafka',
        configFile,
      ],
      { cwd: dataDir, outFile: stdoutFile },
    );
    const pid = /** @type {number} */ (child.pid);
    const brokers = `127.0.0.1:${port}`;
    log(`kafka: started pid ${pid}, waiting for ${brokers} (log: ${logFile}) ${elapsed()}`);
    try {
      await pollUntil({
        timeoutMs,
        exited,
        check: async () =>
          (await tcpProbe(port)) &&
          (!secure || (await tcpProbe(/** @type {number} */ (secure.saslSslPort)))) &&
          kafkaRoundTrip(brokers),
      });
    } catch (err) {
      await stopProcess(pid, { timeoutMs: 5000 }).catch(noop);
      const tails = logTails([logFile, stdoutFile]);
      if (attempt < 3 && /exited early/.test(err.message) && /Address already in use/.test(tails)) {
        log(`kafka: port taken, retrying with new ports ${elapsed()}`);
        continue;
      }
      throw new Error(`test-infra: kafka ${err.message} ${elapsed()} (data dir ${dataDir})${tails}`);
    }
    log(`kafka: ready on ${brokers} ${elapsed()}`);
    return {
      name: 'kafka',
      pid,
      brokers,
      port,
      controllerPort,
      logFile,
      stdoutFile,
      dataDir,
      runDir,
      version: KAFKA_VERSION,
      startedAt: new Date().toISOString(),
      ...(secure && tls
        ? {
            secure: {
              saslSslBrokers: `127.0.0.1:${secure.saslSslPort}`,
              sslBrokers: `127.0.0.1:${secure.sslPort}`,
              users: secure.users,
              ...tls,
            },
          }
        : {}),
    };
  }
}

// ---------------------------------------------------------------------------
// FerretDB

async function mongoClient(url, timeoutMs) {
  const { MongoClient } = await import('mongodb');
  return new MongoClient(url, {
    directConnection: true,
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs * 5,
    maxPoolSize: 1,
  });
}

/** Readiness: ping plus one insert/find. */
async function ferretRoundTrip(url) {
  const client = await mongoClient(url, 2000);
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    const db = client.db('test_infra_ready');
    const id = randomBytes(4).toString('hex');
    await db.collection('ready').insertOne({ id });
    const found = await db.collection('ready').findOne({ id });
    await db.dropDatabase();
    return found?.id === id;
  } finally {
    await client.close().catch(noop);
  }
}

/** Quick health check of a running FerretDB (ping). */
export async function ferretDbAnswers(url, timeoutMs = 2000) {
  const client = await mongoClient(url, timeoutMs);
  try {
    await client.connect();
    const r = await client.db('admin').command({ ping: 1 });
    return r.ok === 1;
  } catch {
    return false;
  } finally {
    await client.close().catch(noop);
  }
}

/**
 * Start FerretDB (SQLite handler) on a free port and wait until ping + insert/find work.
 * @param {CommonOptions & { dataDir?: string, timeoutMs?: number, runDir?: string }} [opts]
 *   dataDir: where the SQLite files and the log go (default: a fresh `<cache>/run-<id>/ferretdb`).
 * @returns {Promise<FerretDbHandle>}
 */
export async function startFerretDb(opts = {}) {
  const log = logger(opts);
  const elapsed = timer();
  const timeoutMs = opts.timeoutMs ?? Number(process.env.TEST_INFRA_FERRETDB_TIMEOUT_MS || 60_000);
  const { binary } = await installFerretDb({ log: opts.installed ? noop : log });
  let runDir = null;
  let dataDir = opts.dataDir && path.resolve(opts.dataDir);
  if (!dataDir) {
    runDir = opts.runDir ?? newRunDir();
    dataDir = path.join(runDir, 'ferretdb');
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(dataDir, 'ferretdb.log');

  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    const { child, exited } = spawnDetached(
      binary,
      [
        '-listen',
        `127.0.0.1:${port}`,
        '-data-dir',
        path.join(dataDir, 'sqlite'),
        '-log-level',
        process.env.TEST_INFRA_FERRETDB_LOG_LEVEL || 'warn',
      ],
      { cwd: dataDir, outFile: logFile, env: { ...process.env, FERRETDB_TELEMETRY: 'disable', DO_NOT_TRACK: '1' } },
    );
    const pid = /** @type {number} */ (child.pid);
    const url = `mongodb://127.0.0.1:${port}/`;
    log(`ferretdb: started pid ${pid}, waiting for ${url} (log: ${logFile}) ${elapsed()}`);
    try {
      await pollUntil({
        timeoutMs,
        exited,
        check: async () => (await tcpProbe(port)) && ferretRoundTrip(url),
      });
    } catch (err) {
      await stopProcess(pid, { timeoutMs: 5000 }).catch(noop);
      const tails = logTails([logFile]);
      if (attempt < 3 && /exited early/.test(err.message) && /address already in use/i.test(tails)) {
        log(`ferretdb: port taken, retrying with a new port ${elapsed()}`);
        continue;
      }
      throw new Error(`test-infra: ferretdb ${err.message} ${elapsed()} (data dir ${dataDir})${tails}`);
    }
    log(`ferretdb: ready on ${url} ${elapsed()}`);
    return {
      name: 'ferretdb',
      pid,
      url,
      port,
      logFile,
      dataDir,
      runDir,
      version: FERRETDB_VERSION,
      startedAt: new Date().toISOString(),
    };
  }
}

// ---------------------------------------------------------------------------
// all together

export const SERVICES = /** @type {const} */ (['kafka', 'ferretdb']);

/** Command-line fragment that identifies each service's process (for pid-reuse protection and orphan sweeps). */
export function processMatch(name) {
  return name === 'kafka'
    ? path.join(CACHE_DIR, `kafka-${KAFKA_VERSION}`, 'libs')
    : path.join(CACHE_DIR, `ferretdb-${FERRETDB_VERSION}`, 'ferretdb');
}

/**
 * Start Kafka and FerretDB in parallel in one fresh run directory (`<cache>/run-<id>/{kafka,ferretdb}`).
 * If one fails, the other is stopped and the error is rethrown.
 *   services: which to start (default both);
 *   runDir: use `<runDir>/kafka` and `<runDir>/ferretdb` instead (then stopAll leaves them in place);
 *   timeoutMs: readiness timeout for each service (defaults 120 s Kafka, 60 s FerretDB).
 * @param {CommonOptions & { services?: ReadonlyArray<'kafka' | 'ferretdb'>, runDir?: string, timeoutMs?: number }} [opts]
 * @returns {Promise<InfraState>}
 */
export async function startAll(opts = {}) {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { dataDir: _ignored, ...common } = /** @type {any} */ (opts);
  const services = opts.services ?? SERVICES;
  // Install first, sequentially: two cold builds at once would fight over 2 cores.
  if (services.includes('kafka')) await installKafka(opts);
  if (services.includes('ferretdb')) await installFerretDb(opts);
  const ownRunDir = !opts.runDir;
  const runDir = opts.runDir ?? newRunDir();
  const starts = {
    kafka: () => startKafka({ ...common, runDir, installed: true }),
    ferretdb: () => startFerretDb({ ...common, runDir, installed: true }),
  };
  const results = await Promise.allSettled(services.map((s) => starts[s]()));
  /** @type {InfraState} */
  const state = { version: 1 };
  for (const r of results) if (r.status === 'fulfilled') /** @type {any} */ (state)[r.value.name] = r.value;
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) {
    await stopAll(state, { removeData: false });
    throw failed.length === 1
      ? failed[0].reason
      : new AggregateError(
          failed.map((f) => f.reason),
          failed.map((f) => f.reason.message).join('\n\n'),
        );
  }
  if (!ownRunDir) for (const s of services) if (state[s]) state[s].runDir = null;
  return state;
}

/**
 * Stop everything in `state` (in parallel) and remove the run directories it created.
 * @param {InfraState | null | undefined} state
 * @param {CommonOptions & { timeoutMs?: number, removeData?: boolean }} [opts]
 */
export async function stopAll(state, opts = {}) {
  if (!state) return;
  const log = logger(opts);
  const handles = SERVICES.map((s) => state[s]).filter(Boolean);
  await Promise.all(
    handles.map(async (h) => {
      const elapsed = timer();
      const r = await stopProcess(h.pid, { timeoutMs: opts.timeoutMs ?? 15_000, match: processMatch(h.name) });
      log(
        `${h.name}: ${r.wasRunning ? `stopped pid ${h.pid}${r.signal === 'SIGKILL' ? ' (SIGKILL)' : ''}` : `pid ${h.pid} was not running`} ${elapsed()}`,
      );
    }),
  );
  if (opts.removeData !== false) {
    for (const runDir of new Set(handles.map((h) => h.runDir).filter(Boolean))) {
      removeRunDir(/** @type {string} */ (runDir), handles);
    }
  }
}

/** Remove a service's data dir inside runDir, and runDir itself once empty. */
function removeRunDir(runDir, handles) {
  if (!path.resolve(runDir).startsWith(CACHE_DIR + path.sep)) return; // never delete outside the cache
  for (const h of handles) if (h.runDir === runDir) fs.rmSync(h.dataDir, { recursive: true, force: true });
  try {
    fs.rmdirSync(runDir);
  } catch {
    /* not empty: another service of the same run still uses it */
  }
}

/** Environment variables for tests: KAFKA_BROKERS and MONGODB_URL. @param {InfraState} state */
export function envFromState(state) {
  /** @type {Record<string, string>} */
  const env = {};
  if (state.kafka) env.KAFKA_BROKERS = state.kafka.brokers;
  if (state.ferretdb) env.MONGODB_URL = state.ferretdb.url;
  return env;
}
