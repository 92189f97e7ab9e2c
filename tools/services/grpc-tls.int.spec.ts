import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import { Client as GrpcClient, credentials } from '@grpc/grpc-js';
import { ClientError, Status, createChannel, createClient } from 'nice-grpc';
import { createChannel as createWebChannel, createClient as createWebClient } from 'nice-grpc-web';
import { InteractionRouterServiceDefinition } from '@mailroute/contracts';
import { HealthDefinition } from 'nice-grpc-server-health';
import type { GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { createAuthBrokerTokenClient, grpcClientCredentials } from '@mailroute/platform';
import {
  createTestCertificateAuthority,
  freePort,
  startServiceProcess,
  testInfra,
  waitFor,
  workspaceRoot,
  type ServiceProcess,
  type TestCertificateAuthority,
} from '@mailroute/testing';
import { dropFleetDatabases, newFleetTenant, serviceEnvironment, serviceOrder, type ServiceName } from './testing/service-fleet';

/**
 * The four services as processes serving gRPC over TLS with required client certificates from an
 * internal CA (what the production overlay wires with cert-manager): calls with a certificate from
 * that CA succeed, a certificate from another CA or none is refused, and a certificate file rotated
 * on disk is served without a restart. mailbox-fetch and outbound-send reach auth-broker with the
 * same settings (their GRPC_TLS_* variables give their token clients the CA and their certificate).
 */
describe('the four services over mTLS', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'mailroute-grpc-tls-'));
  const tenant = newFleetTenant('grpc-tls');
  const procs = new Map<ServiceName, ServiceProcess>();
  const addresses = new Map<ServiceName, string>();
  const healthPorts = new Map<ServiceName, number>();
  let internal: TestCertificateAuthority;
  let rogue: TestCertificateAuthority;
  const certs = (service: string) => ({
    cert: path.join(work, 'internal', `${service}.crt`),
    key: path.join(work, 'internal', `${service}.key`),
  });
  /**
   * A service's certificate as the kubelet mounts a Secret: `tls.crt`/`tls.key` are links into
   * `..data`, a link to a timestamped directory that an update replaces in one rename.
   */
  const mounted = (service: string) => ({
    cert: path.join(work, 'mounts', service, 'tls.crt'),
    key: path.join(work, 'mounts', service, 'tls.key'),
  });
  let generation = 0;
  function mountSecret(service: string, from: { cert: string; key: string }): void {
    const dir = path.join(work, 'mounts', service);
    const version = `..${(generation += 1)}`;
    mkdirSync(path.join(dir, version), { recursive: true });
    copyFileSync(from.cert, path.join(dir, version, 'tls.crt'));
    copyFileSync(from.key, path.join(dir, version, 'tls.key'));
    symlinkSync(version, path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    for (const name of ['tls.crt', 'tls.key']) {
      try {
        symlinkSync(path.join('..data', name), path.join(dir, name));
      } catch {
        // already linked
      }
    }
  }
  const read = (file: string): Buffer => readFileSync(file);

  beforeAll(async () => {
    internal = await createTestCertificateAuthority(path.join(work, 'internal'), 'mailroute internal CA');
    rogue = await createTestCertificateAuthority(path.join(work, 'rogue'), 'another CA');
    for (const service of [...serviceOrder, 'workload-manager', 'web-gateway']) internal.issue(service);
    rogue.issue('workload-manager');
    const { mongoUrl, kafkaBrokers } = testInfra();
    // No sandbox here: nothing in this suite reaches Graph or Entra.
    const endpoints = { baseUrl: 'https://127.0.0.1:1' } as GraphSandboxEndpoints;
    for (const service of serviceOrder) {
      mountSecret(service, certs(service));
      const own = mounted(service);
      healthPorts.set(service, await freePort());
      const env = serviceEnvironment(service, {
        tenant,
        endpoints,
        mongoUrl,
        brokers: kafkaBrokers.join(','),
        authBrokerAddress: addresses.get('auth-broker') ?? '127.0.0.1:1',
        common: {
          GRPC_PORT: '0',
          LOG_LEVEL: 'info',
          GRPC_TLS_CERT_FILE: own.cert,
          GRPC_TLS_KEY_FILE: own.key,
          GRPC_TLS_CA_FILE: internal.caFile,
          GRPC_TLS_REQUIRE_CLIENT_CERT: 'true',
          GRPC_TLS_RELOAD_INTERVAL_MS: '300',
          GRPC_HEALTH_PORT: String(healthPorts.get(service)),
        },
      });
      const proc = startServiceProcess(`apps/${service}/src/main.ts`, {
        ...env,
        ...(service === 'interaction-router' ? { ROUTER_METRICS_PORT: '0' } : {}),
        ...(service === 'outbound-send' ? { OUTBOUND_SEND_METRICS_PORT: '0' } : {}),
      });
      procs.set(service, proc);
      addresses.set(service, `127.0.0.1:${await proc.port()}`);
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...procs.values()].map((proc) => proc.stop('SIGKILL')));
    await dropFleetDatabases(tenant);
    rmSync(work, { recursive: true, force: true });
  });

  /** grpc.health.v1 Check over TLS, trusting `ca`, presenting `client` (or no certificate). */
  async function check(service: ServiceName, ca: string, client?: { cert: string; key: string }): Promise<number> {
    const channel = createChannel(
      addresses.get(service) ?? '',
      credentials.createSsl(read(ca), client ? read(client.key) : null, client ? read(client.cert) : null),
    );
    try {
      const answer = await createClient(HealthDefinition, channel).check(
        { service: '' },
        { signal: AbortSignal.timeout(10_000) },
      );
      return answer.status;
    } finally {
      channel.close();
    }
  }

  it.each(serviceOrder)('%s answers over TLS to a client with a certificate from the internal CA', async (service) => {
    expect(procs.get(service)?.output.some((line) => line.includes('"tls":"mtls"'))).toBe(true);
    await expect(check(service, internal.caFile, certs('workload-manager'))).resolves.toBe(1);
  });

  it.each(serviceOrder)(
    '%s refuses a client whose certificate is from another CA, and one without a certificate',
    async (service) => {
      const rogueClient = {
        cert: path.join(work, 'rogue', 'workload-manager.crt'),
        key: path.join(work, 'rogue', 'workload-manager.key'),
      };
      await expect(check(service, internal.caFile, rogueClient)).rejects.toThrow(/UNAVAILABLE/);
      await expect(check(service, internal.caFile)).rejects.toThrow(/UNAVAILABLE/);
    },
  );

  it("a service's token client (mailbox-fetch's GRPC_TLS_* settings) reaches auth-broker over mTLS", async () => {
    const own = mounted('mailbox-fetch');
    const tokens = createAuthBrokerTokenClient({
      address: addresses.get('auth-broker') ?? '',
      serviceToken: tenant.fetchToken,
      credentials: grpcClientCredentials({
        GRPC_TLS_CERT_FILE: own.cert,
        GRPC_TLS_KEY_FILE: own.key,
        GRPC_TLS_CA_FILE: internal.caFile,
        GRPC_TLS_RELOAD_INTERVAL_MS: 300,
      }),
    });
    try {
      // The tenant has no credentials registered: auth-broker answers (authenticated, over mTLS) that it has none.
      const failure = await tokens
        .getToken(tenant.tenantId, { kind: 'app-only', credentialsId: 'default' }, { forceRefresh: false })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ClientError);
      expect([Status.UNAVAILABLE, Status.UNAUTHENTICATED]).not.toContain((failure as ClientError).code);
      await waitFor(() => procs.get('auth-broker')?.output.some((line) => line.includes('GetAccessToken')), {
        timeoutMs: 10_000,
        description: 'auth-broker logged the call',
      });
    } finally {
      tokens.close();
    }
  });

  it.each(serviceOrder)(
    '%s answers a plaintext health check on GRPC_HEALTH_PORT (the Kubernetes probes) and nothing else there',
    async (service) => {
      const channel = createChannel(`127.0.0.1:${healthPorts.get(service)}`);
      try {
        const answer = await createClient(HealthDefinition, channel).check(
          { service: '' },
          { signal: AbortSignal.timeout(10_000) },
        );
        expect(answer.status).toBe(1);
        // Server reflection, which the main port serves, is not there.
        const client = new GrpcClient(`127.0.0.1:${healthPorts.get(service)}`, credentials.createInsecure());
        const reflection = await new Promise<unknown>((resolve) => {
          client.makeUnaryRequest(
            '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
            (value: Buffer) => value,
            (value: Buffer) => value,
            Buffer.alloc(0),
            (error) => resolve(error),
          );
        });
        client.close();
        expect(reflection).toMatchObject({ code: Status.UNIMPLEMENTED });
      } finally {
        channel.close();
      }
    },
  );

  it('the web gateway calls the services over mTLS with its GRPC_TLS_* client settings', async () => {
    const own = certs('web-gateway');
    const gateway = startServiceProcess('apps/web-gateway/src/main.ts', {
      LOG_LEVEL: 'info',
      WEB_GATEWAY_PORT: '0',
      WEB_GATEWAY_METRICS_PORT: '0',
      WEB_GATEWAY_ROUTER_ADDRESS: addresses.get('interaction-router') ?? '',
      WEB_GATEWAY_MAILBOX_FETCH_ADDRESS: addresses.get('mailbox-fetch') ?? '',
      WEB_GATEWAY_AUTH_BROKER_ADDRESS: addresses.get('auth-broker') ?? '',
      GRPC_TLS_CA_FILE: internal.caFile,
      GRPC_TLS_CERT_FILE: own.cert,
      GRPC_TLS_KEY_FILE: own.key,
    });
    try {
      const channel = createWebChannel(`http://127.0.0.1:${await gateway.port()}`);
      const router = createWebClient(InteractionRouterServiceDefinition, channel, { '*': { metadata: tenant.metadata() } });
      await expect(router.listQueues({ page: { pageSize: 10, pageToken: '' } })).resolves.toMatchObject({ queues: [] });
    } finally {
      await gateway.stop();
    }
  });

  it('the CLI calls the services over mTLS with --ca-file/--cert-file/--key-file, and is refused without a certificate', async () => {
    const own = certs('workload-manager');
    const cli = (extra: Record<string, string>) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', path.join(workspaceRoot, 'apps/cli/src/main.ts'), 'queue', 'list', '--json'],
          {
            cwd: workspaceRoot,
            env: {
              PATH: process.env['PATH'] ?? '',
              HOME: process.env['HOME'] ?? '',
              TSX_TSCONFIG_PATH: path.join(workspaceRoot, 'tsconfig.base.json'),
              MAILROUTE_ROUTER: addresses.get('interaction-router') ?? '',
              MAILROUTE_API_KEY: tenant.apiKey,
              MAILROUTE_TIMEOUT: '20s',
              MAILROUTE_TLS_CA_FILE: internal.caFile,
              ...extra,
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
    const withCertificate = await cli({ MAILROUTE_TLS_CERT_FILE: own.cert, MAILROUTE_TLS_KEY_FILE: own.key });
    expect(withCertificate).toMatchObject({ code: 0 });
    // The tenant has no queues: proto3 JSON leaves the empty list out.
    expect(JSON.parse(withCertificate.stdout)).toEqual({});
    const without = await cli({});
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/UNAVAILABLE/);
  });

  it('a client that trusts another CA refuses the services', async () => {
    await expect(check('auth-broker', rogue.caFile, certs('workload-manager'))).rejects.toThrow(/UNAVAILABLE/);
  });

  it('serves a certificate rotated on disk without a restart', async () => {
    const peerName = () =>
      new Promise<string>((resolve, reject) => {
        const client = certs('workload-manager');
        const [host, port] = (addresses.get('auth-broker') ?? '').split(':');
        const socket = connect(
          {
            host,
            port: Number(port),
            ca: read(internal.caFile),
            cert: read(client.cert),
            key: read(client.key),
            ALPNProtocols: ['h2'],
          },
          () => {
            const subject = socket.getPeerCertificate().subject;
            socket.destroy();
            resolve(String(subject?.CN));
          },
        );
        socket.once('error', reject);
      });
    await expect(peerName()).resolves.toBe('auth-broker');
    const rotated = internal.issue('auth-broker-rotated');
    // cert-manager renews the Secret; the kubelet swaps the mounted files; the service keeps running.
    mountSecret('auth-broker', { cert: rotated.certFile, key: rotated.keyFile });
    await waitFor(async () => (await peerName()) === 'auth-broker-rotated', {
      timeoutMs: 30_000,
      description: 'the rotated certificate served',
    });
    expect(procs.get('auth-broker')?.child.exitCode).toBeNull();
    await expect(check('auth-broker', internal.caFile, certs('workload-manager'))).resolves.toBe(1);
  });
});
