import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import { MongoClient } from 'mongodb';
import { createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { parseDockerfile, parseEnvInstruction } from '../src/dockerfile';
import { environmentOf, podTemplateOf, type K8sObject } from '../src/k8s-object';
import { renderOverlay, repoRoot } from '../src/tooling';

// What this proves: the image's runtime command (ENTRYPOINT in WORKDIR, with the image's ENV and
// the production overlay's ConfigMaps) starts each service from the production build, with only the
// npm packages of the build's pruned lock file visible, as the image's user, in a read-only app
// directory; it answers grpc.health.v1 over a real socket and exits 0 after draining on SIGTERM.

const services = ['auth-broker', 'mailbox-fetch', 'interaction-router', 'outbound-send'] as const;
type Service = (typeof services)[number];

const rootPackage = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const work = mkdtempSync(path.join(os.tmpdir(), 'mailroute-production-build-'));
const buildDir = path.join(work, 'dist');
/** The image runs as this user (USER in the Dockerfiles); when the test runs as root it does too. */
const imageUser = 10001;

interface LockFile {
  packages: Record<string, { dev?: boolean; version?: string }>;
}

function dockerfileOf(service: Service) {
  const stages = parseDockerfile(readFileSync(path.join(repoRoot, 'deploy', 'docker', `${service}.Dockerfile`), 'utf8'));
  const runtime = stages[stages.length - 1];
  if (!runtime) throw new Error('no stage');
  const entrypoint = runtime.instructions.find((instruction) => instruction.keyword === 'ENTRYPOINT')?.exec ?? [];
  const env = Object.assign(
    {},
    ...runtime.instructions
      .filter((instruction) => instruction.keyword === 'ENV')
      .map((instruction) => parseEnvInstruction(instruction.args)),
  ) as Record<string, string>;
  return { entrypoint, env };
}

/**
 * Lays the build out as the image does (/app = the build output + node_modules) with node_modules
 * holding only the pruned lock's top-level packages, as links into the workspace's node_modules.
 * Node runs with --preserve-symlinks, so a package missing from the lock is not found.
 */
function stageImage(service: Service): string {
  const app = path.join(work, `image-${service}`, 'app');
  mkdirSync(app, { recursive: true });
  cpSync(path.join(buildDir, service), app, { recursive: true });
  const lock = JSON.parse(readFileSync(path.join(app, 'package-lock.json'), 'utf8')) as LockFile;
  for (const key of Object.keys(lock.packages)) {
    if (key === '' || key.split('node_modules/').length !== 2) continue;
    const target = path.join(app, key);
    mkdirSync(path.dirname(target), { recursive: true });
    symlinkSync(path.join(repoRoot, key), target);
  }
  makeReadOnly(app);
  return app;
}

function makeReadOnly(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) makeReadOnly(full);
    else chmodSync(full, 0o444);
  }
  chmodSync(dir, 0o555);
}

function productionContainer(service: Service) {
  const { objects } = renderOverlay('production');
  const deployment = objects.find((object: K8sObject) => object.kind === 'Deployment' && object.metadata.name === service);
  const container = deployment && podTemplateOf(deployment)?.spec.containers[0];
  if (!deployment || !container) throw new Error(`no Deployment ${service} in the production overlay`);
  return { objects, deployment, container };
}

/** The environment the production overlay gives the service's container (ConfigMaps, literals, field refs). */
function productionEnvironment(service: Service): Record<string, string> {
  const { objects, deployment, container } = productionContainer(service);
  return environmentOf(container, objects, deployment.metadata.namespace, { name: `${service}-7d9f8c6b5-x2x4q` });
}

interface Running {
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  port(): Promise<number>;
  /** The plaintext health-only port (GRPC_HEALTH_PORT) from the same log line. */
  healthPort(): Promise<number>;
}

function startImage(service: Service, app: string, env: Record<string, string>): Running {
  const { entrypoint } = dockerfileOf(service);
  const [command, ...args] = entrypoint;
  if (command !== 'node') throw new Error(`ENTRYPOINT of ${service} does not start with node: ${entrypoint.join(' ')}`);
  const asImageUser = process.getuid?.() === 0 ? { uid: imageUser, gid: imageUser } : {};
  const child = spawn(process.execPath, args, {
    cwd: app,
    env: { PATH: process.env['PATH'] ?? '', TMPDIR: os.tmpdir(), NODE_OPTIONS: '--preserve-symlinks', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...asImageUser,
  });
  const output: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (chunk: Buffer): void => {
    output.push(
      ...chunk
        .toString()
        .split('\n')
        .filter((line) => line.length > 0),
    );
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const waiter of waiters) waiter();
      resolve({ code, signal });
    });
  });
  const listening = (): Promise<{ port: number; healthPort?: number }> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        for (const line of output) {
          try {
            const entry = JSON.parse(line) as { msg?: string; port?: number; healthPort?: number };
            if (entry.msg === `${service} listening` && typeof entry.port === 'number') {
              waiters.delete(check);
              return resolve({ port: entry.port, ...(entry.healthPort === undefined ? {} : { healthPort: entry.healthPort }) });
            }
          } catch {
            // not a log line
          }
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          waiters.delete(check);
          reject(new Error(`${service} exited before listening:\n${output.join('\n')}`));
        }
      };
      waiters.add(check);
      check();
    });
  const port = () => listening().then((entry) => entry.port);
  const healthPort = () =>
    listening().then((entry) => {
      if (entry.healthPort === undefined) throw new Error(`${service} logged no healthPort`);
      return entry.healthPort;
    });
  return { child, output, exited, port, healthPort };
}

/** The kubelet's Secret mounts under /etc/mailroute, for a local process: the same files in a directory of the test's. */
const mountRoot = '/etc/mailroute';
let testCa: { caFile: string; issue(name: string): unknown } | undefined;

/**
 * What the production overlay mounts from Secrets, made here: each `…_FILE` variable under
 * /etc/mailroute is pointed at the same relative path in the test's directory, holding a certificate
 * the test CA issued to the service (tls.crt, tls.key, ca.crt — what cert-manager writes) or a
 * made-up Kafka password. Also the client certificate the test calls the TLS port with.
 */
async function mountSecrets(service: Service, env: Record<string, string>): Promise<Record<string, string>> {
  const caDir = path.join(work, 'ca');
  if (!testCa) {
    const module = (await import(pathToFileURL(path.join(repoRoot, 'tools', 'test-infra', 'test-ca.mjs')).href)) as {
      createTestCa(dir: string, options: { name: string }): { caFile: string; issue(name: string): unknown };
    };
    testCa = module.createTestCa(caDir, { name: 'mailroute internal CA (test)' });
    testCa.issue('test-client');
  }
  testCa.issue(service);
  const root = path.join(work, 'mounts', service);
  const contents: Record<string, string> = {
    'tls/tls.crt': path.join(caDir, `${service}.crt`),
    'tls/tls.key': path.join(caDir, `${service}.key`),
    'tls/ca.crt': testCa.caFile,
  };
  const mounted: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.endsWith('_FILE') || !value.startsWith(`${mountRoot}/`)) continue;
    const relative = value.slice(mountRoot.length + 1);
    const local = path.join(root, relative);
    mkdirSync(path.dirname(local), { recursive: true, mode: 0o755 });
    const source = contents[relative];
    if (source) cpSync(source, local);
    else writeFileSync(local, 'made-up-password');
    chmodSync(local, 0o644);
    mounted[name] = local;
  }
  return mounted;
}

/**
 * The one transport deviation: the shared test Kafka is a plaintext listener, so the production
 * overlay's KAFKA_TLS/KAFKA_SASL_* settings are left out here (libs/messaging's
 * kafka-secure-broker.int.spec.ts runs the same settings against a SASL_SSL broker).
 */
function withoutKafkaSecurity(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !/^KAFKA_(TLS|SASL_)/.test(name)));
}

/**
 * What the cluster supplies besides the ConfigMaps: Secret values (made up here) and the addresses
 * of MongoDB and Kafka (the real servers the libs/testing global setup started).
 */
function clusterFor(service: Service, database: string): Record<string, string> {
  const mongoUrl = process.env['MAILROUTE_TEST_MONGODB_URL'];
  const kafkaBrokers = process.env['MAILROUTE_TEST_KAFKA_BROKERS'];
  if (!mongoUrl || !kafkaBrokers)
    throw new Error(
      'MAILROUTE_TEST_MONGODB_URL / MAILROUTE_TEST_KAFKA_BROKERS are not set: the libs/testing global setup should have started FerretDB and Kafka',
    );
  switch (service) {
    case 'auth-broker':
      return {
        AUTH_BROKER_MONGODB_URL: mongoUrl,
        AUTH_BROKER_MONGODB_DATABASE: database,
        AUTH_BROKER_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        AUTH_BROKER_SERVICE_TOKENS: `mailbox-fetch:${createHash('sha256').update(randomBytes(24)).digest('hex')}`,
      };
    case 'interaction-router':
      return { ROUTER_MONGODB_URL: mongoUrl, ROUTER_MONGODB_DATABASE: database, ROUTER_KAFKA_BROKERS: kafkaBrokers };
    case 'mailbox-fetch':
      return {
        MAILBOX_FETCH_MONGODB_URL: mongoUrl,
        MAILBOX_FETCH_MONGODB_DATABASE: database,
        MAILBOX_FETCH_KAFKA_BROKERS: kafkaBrokers,
        MAILBOX_FETCH_AUTH_BROKER_TOKEN: randomBytes(24).toString('base64url'),
      };
    case 'outbound-send':
      return {
        OUTBOUND_SEND_MONGODB_URL: mongoUrl,
        OUTBOUND_SEND_MONGODB_DATABASE: database,
        OUTBOUND_SEND_KAFKA_BROKERS: kafkaBrokers,
        OUTBOUND_SEND_AUTH_BROKER_TOKEN: randomBytes(24).toString('base64url'),
      };
    default:
      return {};
  }
}

/** Services that keep data in MongoDB (their test database is dropped afterwards). */
const usesMongo = new Set<Service>(['auth-broker', 'interaction-router', 'mailbox-fetch', 'outbound-send']);

/** Local-test deviations from the pod: loopback instead of the pod IP, any free port. */
function loopback(service: Service): Record<string, string> {
  return {
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    ...(service === 'auth-broker' ? { AUTH_BROKER_METRICS_HOST: '127.0.0.1', AUTH_BROKER_METRICS_PORT: '0' } : {}),
    ...(service === 'mailbox-fetch' ? { MAILBOX_FETCH_METRICS_HOST: '127.0.0.1', MAILBOX_FETCH_METRICS_PORT: '0' } : {}),
    ...(service === 'outbound-send' ? { OUTBOUND_SEND_METRICS_HOST: '127.0.0.1', OUTBOUND_SEND_METRICS_PORT: '0' } : {}),
    ...(service === 'interaction-router' ? { ROUTER_METRICS_HOST: '127.0.0.1', ROUTER_METRICS_PORT: '0' } : {}),
    GRPC_HEALTH_PORT: '0',
  };
}

beforeAll(() => {
  chmodSync(work, 0o755);
  const result = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'tools', 'build', 'build-service.mjs'), '--out-dir', buildDir, ...services],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`production build failed:\n${result.stderr}${result.stdout}`);
});

afterAll(() => {
  const restoreWritable = (dir: string): void => {
    chmodSync(dir, 0o755);
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory() && !entry.isSymbolicLink()) restoreWritable(path.join(dir, entry.name));
  };
  restoreWritable(work);
  rmSync(work, { recursive: true, force: true });
});

describe.each(services)('the production build of %s', (service) => {
  let running: Running | undefined;
  const database = `deploy_${randomBytes(6).toString('hex')}`;

  afterEach(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
    await running?.exited;
    running = undefined;
  });

  afterAll(async () => {
    const mongoUrl = process.env['MAILROUTE_TEST_MONGODB_URL'];
    if (!usesMongo.has(service) || !mongoUrl) return;
    const client = new MongoClient(mongoUrl);
    try {
      await client.db(database).dropDatabase();
    } finally {
      await client.close();
    }
  });

  it('requires only production dependencies of the root package.json, all in its pruned lock file', () => {
    const out = path.join(buildDir, service);
    const servicePackage = JSON.parse(readFileSync(path.join(out, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const [name, version] of Object.entries(servicePackage.dependencies))
      expect([name, rootPackage.dependencies[name]]).toEqual([name, version]);
    const bundle = readFileSync(path.join(out, 'main.js'), 'utf8');
    const required = new Set(
      [...bundle.matchAll(/require\("([^"./][^"]*)"\)/g)]
        .map((match) => match[1] as string)
        .filter((specifier) => !specifier.startsWith('node:'))
        .map((specifier) =>
          specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] as string),
        ),
    );
    const builtins = new Set(builtinModules);
    expect([...required].filter((name) => !builtins.has(name) && !servicePackage.dependencies[name])).toEqual([]);
    expect(bundle).not.toMatch(/require\("@mailroute\//);
    const lock = JSON.parse(readFileSync(path.join(out, 'package-lock.json'), 'utf8')) as LockFile;
    expect(Object.entries(lock.packages).filter(([, entry]) => entry.dev)).toEqual([]);
    for (const name of Object.keys(servicePackage.dependencies))
      expect(lock.packages[`node_modules/${name}`]?.version).toBe(servicePackage.dependencies[name]);
    expect(statSync(path.join(out, 'main.js')).size).toBeGreaterThan(0);
  });

  it('starts with the image command and the production ConfigMaps, answers grpc.health.v1 SERVING over mTLS and on the plaintext probe port, and exits 0 after draining on SIGTERM', async () => {
    // The test supplies only what the Deployment takes from Secrets or shared ConfigMap keys (plus a
    // database of its own): nothing the manifests forgot.
    const fromReferences = new Set(
      (productionContainer(service).container.env ?? [])
        .filter((variable) => variable.valueFrom)
        .map((variable) => variable.name),
    );
    expect(
      Object.keys(clusterFor(service, database)).filter((key) => !key.endsWith('_MONGODB_DATABASE') && !fromReferences.has(key)),
    ).toEqual([]);
    const app = stageImage(service);
    const production = withoutKafkaSecurity(productionEnvironment(service));
    running = startImage(service, app, {
      ...dockerfileOf(service).env,
      ...production,
      ...(await mountSecrets(service, production)),
      ...clusterFor(service, database),
      ...loopback(service),
    });
    const port = await running.port();
    expect(running.output.some((line) => line.includes('"tls":"mtls"'))).toBe(true);
    const caDir = path.join(work, 'ca');
    const read = (name: string) => readFileSync(path.join(caDir, name));
    const tlsChannel = createChannel(
      `127.0.0.1:${port}`,
      credentials.createSsl(read('ca.crt'), read('test-client.key'), read('test-client.crt')),
    );
    const probeChannel = createChannel(`127.0.0.1:${await running.healthPort()}`);
    try {
      // grpc-js loads the watched certificate files just after the port is bound; a handshake in that
      // moment is reset and the client connects again (a real client retries the same way).
      const tlsHealth = createClient(HealthDefinition, tlsChannel);
      const deadline = Date.now() + 15_000;
      let answer = await tlsHealth.check({ service: '' }).catch((error: unknown) => error);
      while (answer instanceof Error && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        answer = await tlsHealth.check({ service: '' }).catch((error: unknown) => error);
      }
      expect(answer).toEqual({ status: 1 });
      await expect(createClient(HealthDefinition, probeChannel).check({ service: '' })).resolves.toEqual({ status: 1 });
    } finally {
      tlsChannel.close();
      probeChannel.close();
    }
    running.child.kill('SIGTERM');
    await expect(running.exited).resolves.toEqual({ code: 0, signal: null });
    expect(running.output.some((line) => line.includes('"shutdown: complete"') && line.includes('"ok":true'))).toBe(true);
  });

  it('refuses a bad variable with exit code 78, naming it', async () => {
    const app = path.join(work, `image-${service}`, 'app');
    running = startImage(service, app, { ...dockerfileOf(service).env, GRPC_PORT: 'not-a-port' });
    await expect(running.exited).resolves.toEqual({ code: 78, signal: null });
    expect(running.output.join('\n')).toContain('GRPC_PORT is invalid');
  });
});
