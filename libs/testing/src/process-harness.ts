import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AuthBrokerServiceDefinition, AuthorityCloud } from '@mailroute/contracts';
import type { GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { createGrpcClient, hashBearerCredential } from '@mailroute/platform';
import { Metadata } from 'nice-grpc';
import type { SandboxMailTenant } from './graph-sandbox-tenant';
import { testInfraEnv, type TestInfra } from './test-infra';
import { startServiceProcess, workspaceRoot, type ServiceProcess } from './service-process';
import { waitFor } from './wait-for';

interface KafkaHandle {
  pid: number;
  brokers: string;
  port: number;
  dataDir: string;
  runDir: string | null;
}

interface FerretDbHandle {
  pid: number;
  url: string;
  port: number;
  dataDir: string;
  runDir: string | null;
}

interface TestInfraModule {
  startAll(options?: { log?: (line: string) => void }): Promise<{ kafka?: { brokers: string }; ferretdb?: { url: string } }>;
  stopAll(state: { kafka?: { brokers: string }; ferretdb?: { url: string } } | null | undefined): Promise<void>;
  startKafka(options?: {
    log?: (line: string) => void;
    secure?: { users?: { name: string; password: string }[] };
  }): Promise<KafkaHandle & { secure?: SecureKafkaListeners }>;
  startFerretDb(options?: { log?: (line: string) => void }): Promise<FerretDbHandle>;
  stopProcess(pid: number, options?: { timeoutMs?: number }): Promise<unknown>;
  installKafka(options?: { log?: (line: string) => void }): Promise<{ libsDir: string }>;
  installFerretDb(options?: { log?: (line: string) => void }): Promise<{ binary: string }>;
  checkJava(): { java: string };
  kafkaAnswers(brokers: string, timeoutMs?: number): Promise<boolean>;
  ferretDbAnswers(url: string, timeoutMs?: number): Promise<boolean>;
  isAlive(pid: number): boolean;
}

const loadTestInfra = async (): Promise<TestInfraModule> =>
  (await import(pathToFileURL(path.join(workspaceRoot, 'tools', 'test-infra', 'index.mjs')).href)) as TestInfraModule;

/** The Kafka broker and FerretDB a benchmark runs against, and how to release them. */
export interface BenchInfra extends TestInfra {
  /** Stops the servers this process started; leaves servers named by the environment running. */
  stop(): Promise<void>;
}

/**
 * Kafka and FerretDB for a benchmark: the running ones named by MAILROUTE_TEST_KAFKA_BROKERS and
 * MAILROUTE_TEST_MONGODB_URL when both are set, else both started through tools/test-infra
 * (`startAll`) and stopped again by `stop()`.
 */
export async function startBenchInfra(): Promise<BenchInfra> {
  const brokers = process.env[testInfraEnv.kafkaBrokers];
  const mongoUrl = process.env[testInfraEnv.mongoUrl];
  if (brokers && mongoUrl) return { kafkaBrokers: brokers.split(','), mongoUrl, stop: async () => undefined };
  const infra = await loadTestInfra();
  const state = await infra.startAll({ log: () => undefined });
  return {
    kafkaBrokers: (state.kafka?.brokers ?? '').split(','),
    mongoUrl: state.ferretdb?.url ?? '',
    stop: () => infra.stopAll(state),
  };
}

/** A Kafka broker of one test's own, which the test may take down and bring back. */
export interface DedicatedKafka {
  /** `127.0.0.1:<port>`; the same across restarts. */
  readonly brokers: string;
  /** Stops the broker process (SIGTERM, SIGKILL after 15 s) and waits until it is gone. */
  stop(): Promise<void>;
  /** Kills the broker process with SIGKILL (a crash: no controlled shutdown) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts the broker again on the same port and data directory and waits until it answers. */
  restart(options?: { timeoutMs?: number }): Promise<void>;
  /** Stops it and removes its data directory. */
  dispose(): Promise<void>;
}

/**
 * Starts a single-node Kafka broker for one test through tools/test-infra (`startKafka`), so the
 * test can cause a real outage without touching the broker everyone else uses. `restart()` runs the
 * broker's JVM again with the configuration `startKafka` wrote (same port, same log dirs, already
 * formatted), which is what an operator's restart of a broker looks like to clients.
 */
export async function startDedicatedKafka(): Promise<DedicatedKafka> {
  const infra = await loadTestInfra();
  const quiet = { log: () => undefined };
  const handle = await infra.startKafka(quiet);
  let pid: number | undefined = handle.pid;
  const logsDir = path.join(handle.dataDir, 'logs');
  const stop = async (): Promise<void> => {
    if (pid !== undefined) await infra.stopProcess(pid);
    pid = undefined;
  };
  return {
    brokers: handle.brokers,
    stop,
    async kill() {
      if (pid !== undefined) await killAndWait(infra, pid);
      pid = undefined;
    },
    async restart({ timeoutMs = 120_000 } = {}) {
      if (pid !== undefined) throw new Error('dedicated Kafka: restart() while it is running');
      const { libsDir } = await infra.installKafka(quiet);
      const { java } = infra.checkJava();
      const child = spawn(
        java,
        [
          '-Xms128m',
          '-Xmx512m',
          '-XX:+UseG1GC',
          '-XX:+ExitOnOutOfMemoryError',
          `-Dlog4j.configuration=${pathToFileURL(path.join(workspaceRoot, 'tools', 'kafka', 'log4j.properties')).href}`,
          `-Dkafka.logs.dir=${logsDir}`,
          '-Djava.awt.headless=true',
          '-cp',
          path.join(libsDir, '*'),
          'kafka.Kafka',
          path.join(handle.dataDir, 'server.properties'),
        ],
        { cwd: handle.dataDir, detached: true, stdio: 'ignore' },
      );
      child.unref();
      pid = child.pid;
      await waitFor(() => infra.kafkaAnswers(handle.brokers, 3_000), {
        timeoutMs,
        intervalMs: 250,
        description: `dedicated Kafka back on ${handle.brokers}`,
      });
    },
    async dispose() {
      await stop();
      rmSync(handle.runDir ?? handle.dataDir, { recursive: true, force: true });
    },
  };
}

/** The TLS listeners of a secure test broker and what a client needs for them. */
export interface SecureKafkaListeners {
  /** `127.0.0.1:<port>` of the SASL_SSL listener: PLAIN and SCRAM-SHA-256/512 for each user, OAUTHBEARER with unsigned tokens. */
  saslSslBrokers: string;
  /** `127.0.0.1:<port>` of the SSL listener that requires a client certificate from the CA. */
  sslBrokers: string;
  users: { name: string; password: string }[];
  /** PEM file of the CA that signed the broker's certificate (and the client's). */
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** A broker of one test's own with TLS and SASL listeners besides its PLAINTEXT one. */
export interface SecureKafka extends SecureKafkaListeners {
  /** The PLAINTEXT listener (for set-up that needs no credentials). */
  plaintextBrokers: string;
  /** Stops it and removes its data directory (its CA with it). */
  dispose(): Promise<void>;
}

/**
 * Starts a single-node Kafka broker through tools/test-infra with a SASL_SSL listener (users created
 * for PLAIN and SCRAM) and an SSL listener requiring a client certificate, both with a CA made for
 * it, as a managed cluster would be.
 */
export async function startSecureKafka(users: { name: string; password: string }[]): Promise<SecureKafka> {
  const infra = await loadTestInfra();
  const handle = await infra.startKafka({ log: () => undefined, secure: { users } });
  if (!handle.secure) throw new Error('test-infra: startKafka returned no secure listeners');
  return {
    ...handle.secure,
    plaintextBrokers: handle.brokers,
    async dispose() {
      await infra.stopProcess(handle.pid);
      rmSync(handle.runDir ?? handle.dataDir, { recursive: true, force: true });
    },
  };
}

/** A throw-away CA (tools/test-infra `createTestCa`, openssl): PEM files in `dir`. */
export interface TestCertificateAuthority {
  dir: string;
  caFile: string;
  ca: string;
  /** A leaf for serverAuth and clientAuth, for `hosts` (default 127.0.0.1 and localhost); `.crt` is the chain. */
  issue(
    name: string,
    options?: { hosts?: string[]; days?: number },
  ): { certFile: string; keyFile: string; cert: string; key: string };
}

/** Creates a test CA named `name` in `dir` with the openssl CLI. */
export async function createTestCertificateAuthority(dir: string, name: string): Promise<TestCertificateAuthority> {
  const module = (await import(pathToFileURL(path.join(workspaceRoot, 'tools', 'test-infra', 'test-ca.mjs')).href)) as {
    createTestCa(dir: string, options: { name: string }): TestCertificateAuthority;
  };
  return module.createTestCa(dir, { name });
}

/** Sends SIGKILL to `pid` and waits until the process is gone. */
async function killAndWait(infra: TestInfraModule, pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await waitFor(() => !infra.isAlive(pid), { timeoutMs: 10_000, intervalMs: 50, description: `pid ${pid} gone after SIGKILL` });
}

/** A FerretDB of one test's own, which the test may kill and bring back on the same address and data. */
export interface DedicatedFerretDb {
  /** `mongodb://127.0.0.1:<port>/`; the same across restarts. */
  readonly url: string;
  /** Kills the server with SIGKILL (a crash) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory and waits until it answers a ping. */
  restart(options?: { timeoutMs?: number }): Promise<void>;
  /** Stops it and removes its data directory. */
  dispose(): Promise<void>;
}

/**
 * Starts FerretDB for one test through tools/test-infra (`startFerretDb`, its own data directory),
 * so the test can crash the store without touching the one everyone else uses. `restart()` runs
 * the same binary with the same arguments (port, SQLite directory), as an operator's restart would.
 */
export async function startDedicatedFerretDb(): Promise<DedicatedFerretDb> {
  const infra = await loadTestInfra();
  const quiet = { log: () => undefined };
  const handle = await infra.startFerretDb(quiet);
  let pid: number | undefined = handle.pid;
  return {
    url: handle.url,
    async kill() {
      if (pid !== undefined) await killAndWait(infra, pid);
      pid = undefined;
    },
    async restart({ timeoutMs = 60_000 } = {}) {
      if (pid !== undefined) throw new Error('dedicated FerretDB: restart() while it is running');
      const { binary } = await infra.installFerretDb(quiet);
      const child = spawn(
        binary,
        ['-listen', `127.0.0.1:${handle.port}`, '-data-dir', path.join(handle.dataDir, 'sqlite'), '-log-level', 'warn'],
        {
          cwd: handle.dataDir,
          detached: true,
          stdio: 'ignore',
          env: { ...process.env, FERRETDB_TELEMETRY: 'disable', DO_NOT_TRACK: '1' },
        },
      );
      child.unref();
      pid = child.pid;
      await waitFor(() => infra.ferretDbAnswers(handle.url, 2_000), {
        timeoutMs,
        intervalMs: 100,
        description: `dedicated FerretDB back on ${handle.url}`,
      });
    },
    async dispose() {
      if (pid !== undefined) await infra.stopProcess(pid);
      pid = undefined;
      rmSync(handle.runDir ?? handle.dataDir, { recursive: true, force: true });
    },
  };
}

/** One HTTPS request that went through a RecordingProxy. */
export interface RecordedRequest {
  /** The proxy's label (e.g. the replica that sent it). */
  label: string;
  method: string;
  /** Path and query, e.g. `/v1.0/users/box0@t1.example/mailFolders/inbox/messages/delta`. */
  path: string;
  /** The request's headers as the proxy received them (names in lower case). */
  headers: http.IncomingHttpHeaders;
  startedAt: number;
  endedAt?: number | undefined;
  status?: number | undefined;
}

export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`: give it to a process as `HTTPS_PROXY` with `NODE_USE_ENV_PROXY=1`. */
  readonly url: string;
  /** Every request seen so far (shared array: pass the same one to several proxies). */
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A forward proxy that sees inside the HTTPS it carries, for tests that must know which process
 * sent which request to the graph sandbox: the process connects through it (`CONNECT`), the proxy
 * ends TLS with the sandbox's own server certificate (which the process already trusts through
 * `NODE_EXTRA_CA_CERTS`), records each request under `label` and forwards it to `upstream`.
 * Only `upstream` is reachable through it.
 */
export async function startRecordingProxy(options: {
  label: string;
  /** `https://127.0.0.1:<port>` of the sandbox. */
  upstream: string;
  /** The sandbox's certificate directory (`dirname(endpoints.caCertPath)`). */
  certDir: string;
  requests?: RecordedRequest[];
  /** Listen on this port (e.g. to bring a closed proxy back where the process expects it); default a free one. */
  port?: number;
}): Promise<RecordingProxy> {
  const requests = options.requests ?? [];
  const upstream = new URL(options.upstream);
  const ca = readFileSync(path.join(options.certDir, 'ca.pem'));
  const agent = new https.Agent({ keepAlive: true, ca });
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const inner = https.createServer(
    {
      cert: readFileSync(path.join(options.certDir, 'server.pem')),
      key: readFileSync(path.join(options.certDir, 'server-key.pem')),
    },
    (request, response) => {
      const record: RecordedRequest = {
        label: options.label,
        method: request.method ?? 'GET',
        path: request.url ?? '/',
        headers: request.headers,
        startedAt: Date.now(),
      };
      requests.push(record);
      const forwarded = https.request(
        {
          agent,
          host: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: { ...request.headers, host: upstream.host },
        },
        (reply) => {
          record.status = reply.statusCode;
          response.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(response);
          reply.once('end', () => (record.endedAt = Date.now()));
        },
      );
      forwarded.once('error', () => {
        record.endedAt = Date.now();
        response.destroy();
      });
      request.pipe(forwarded);
    },
  );

  const outer = http.createServer((_request, response) => response.writeHead(405).end());
  outer.on('connection', track);
  outer.on('connect', (request: http.IncomingMessage, socket: Socket) => {
    if (request.url !== upstream.host) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    inner.emit('connection', socket);
  });
  outer.listen(options.port ?? 0, '127.0.0.1');
  await once(outer, 'listening');
  return {
    url: `http://127.0.0.1:${(outer.address() as AddressInfo).port}`,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await Promise.all([new Promise((resolve) => outer.close(resolve)), new Promise((resolve) => inner.close(resolve))]);
    },
  };
}

/** A started auth-broker process (apps/auth-broker/src/main.ts) that trusts the graph sandbox. */
export interface AuthBrokerProcess {
  proc: ServiceProcess;
  /** `127.0.0.1:<port>` of its gRPC server. */
  address: string;
  /** Stores `sandbox`'s app secret as credentials `credentialsId` of mailroute tenant `tenantId`. */
  addSandboxCredentials(tenantId: string, sandbox: SandboxMailTenant, credentialsId?: string): Promise<void>;
}

/**
 * Starts the real auth-broker as a process with an embedded store in `workDir`, accepting the
 * given workload-manager API keys (one per mailroute tenant, scopes credentials.read/write) and
 * the service tokens (`service → token`), and trusting the sandbox's CA through NODE_EXTRA_CA_CERTS.
 */
export async function startAuthBrokerProcess(options: {
  endpoints: GraphSandboxEndpoints;
  workDir: string;
  apiKeys: Readonly<Record<string, string>>;
  serviceTokens: Readonly<Record<string, string>>;
  /** More variables (e.g. HTTPS_PROXY with NODE_USE_ENV_PROXY). */
  env?: Readonly<Record<string, string>>;
}): Promise<AuthBrokerProcess> {
  const proc = startServiceProcess('apps/auth-broker/src/main.ts', {
    GRPC_PORT: '0',
    LOG_LEVEL: 'info',
    NODE_EXTRA_CA_CERTS: options.endpoints.caCertPath,
    AUTH_BROKER_STORE: 'embedded',
    AUTH_BROKER_EMBEDDED_PATH: path.join(options.workDir, 'auth-broker.db'),
    AUTH_BROKER_ENCRYPTION_KEYS: `test:${randomBytes(32).toString('base64')}`,
    AUTH_BROKER_API_KEYS: Object.entries(options.apiKeys)
      .map(([tenantId, key], i) => `k${i}:${tenantId}:credentials.read+credentials.write:${hashBearerCredential(key)}`)
      .join(','),
    AUTH_BROKER_SERVICE_TOKENS: Object.entries(options.serviceTokens)
      .map(([service, token]) => `${service}:${hashBearerCredential(token)}`)
      .join(','),
    AUTH_BROKER_METRICS_PORT: '0',
    // The sandbox stands in for a custom cloud: allowed explicitly, as an operator would.
    AUTH_BROKER_ALLOWED_CLOUD_ORIGINS: options.endpoints.baseUrl,
    ...options.env,
  });
  const address = `127.0.0.1:${await proc.port()}`;
  return {
    proc,
    address,
    async addSandboxCredentials(tenantId, sandbox, credentialsId = 'default') {
      const handle = createGrpcClient(AuthBrokerServiceDefinition, address, { deadlineMs: 30_000 });
      try {
        await handle.client.createTenantCredentials(
          {
            credentialsId,
            spec: {
              displayName: `sandbox ${sandbox.domain}`,
              directoryId: sandbox.directoryId,
              clientId: sandbox.clientId,
              cloud: AuthorityCloud.AUTHORITY_CLOUD_CUSTOM,
              authorityHost: options.endpoints.baseUrl,
              graphEndpoint: options.endpoints.baseUrl,
              credential: {
                $case: 'clientSecret',
                value: { value: sandbox.clientSecret, expiresAt: new Date(Date.now() + 86_400_000) },
              },
            },
          },
          { metadata: Metadata({ authorization: `Bearer ${options.apiKeys[tenantId] ?? ''}` }) },
        );
      } finally {
        handle.close();
      }
    },
  };
}
