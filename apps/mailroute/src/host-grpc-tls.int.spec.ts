import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import {
  createTestCertificateAuthority,
  freePort,
  startServiceProcess,
  waitFor,
  type ServiceProcess,
  type TestCertificateAuthority,
} from '@mailroute/testing';

// `npm start` with `grpc.tls` (a CA, the host's certificate, requireClientCert) as a real process:
// the four services serve gRPC over mTLS, the host's own calls (the demo seed) reach them over it,
// and a client without a certificate from the CA, or one speaking plaintext, is refused.
describe('npm start with grpc.tls: the services serve mTLS', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-host-tls-'));
  const services = ['authBroker', 'mailboxFetch', 'interactionRouter', 'outboundSend'] as const;
  const ports = {} as Record<(typeof services)[number], number>;
  let internal: TestCertificateAuthority;
  let rogue: TestCertificateAuthority;
  let running: ServiceProcess | undefined;
  let client: { cert: string; key: string };
  let rogueClient: { cert: string; key: string };

  beforeAll(async () => {
    internal = await createTestCertificateAuthority(path.join(dir, 'internal'), 'mailroute internal CA');
    rogue = await createTestCertificateAuthority(path.join(dir, 'rogue'), 'another CA');
    const host = internal.issue('host');
    client = internal.issue('client');
    rogueClient = rogue.issue('client');
    for (const service of services) ports[service] = await freePort();
    const configFile = path.join(dir, 'mailroute.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        dataDir: 'data',
        ports: { ...ports, webGateway: await freePort() },
        sandbox: { port: await freePort(), adminPort: await freePort() },
        grpc: { tls: { caFile: internal.caFile, certFile: host.certFile, keyFile: host.keyFile, requireClientCert: true } },
      }),
    );
    const proc = startServiceProcess('apps/mailroute/src/main.ts', { MAILROUTE_CONFIG: configFile });
    running = proc;
    // Ready comes after the demo seed, which calls auth-broker, mailbox-fetch and the router over mTLS.
    await waitFor(() => proc.output.some((line) => line.startsWith('mailroute: ready')) || proc.child.exitCode !== null, {
      timeoutMs: 120_000,
      description: 'the host to be ready',
    });
    if (proc.child.exitCode !== null) throw new Error(`the host exited:\n${proc.output.join('\n')}`);
  }, 300_000);

  afterAll(async () => {
    await running?.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  const ssl = (identity?: { cert: string; key: string }) =>
    credentials.createSsl(
      readFileSync(internal.caFile),
      identity ? Buffer.from(identity.key) : null,
      identity ? Buffer.from(identity.cert) : null,
    );

  /** grpc.health.v1 Check of the service on `port` with `channelCredentials`. */
  async function check(port: number, channelCredentials: ChannelCredentials): Promise<number> {
    const channel = createChannel(`127.0.0.1:${port}`, channelCredentials);
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

  it.each(services)('%s answers over TLS to a client with a certificate from the configured CA', async (service) => {
    await expect(check(ports[service], ssl(client))).resolves.toBe(1);
  });

  it.each(services)('%s refuses plaintext, a client without a certificate and one from another CA', async (service) => {
    await expect(check(ports[service], credentials.createInsecure())).rejects.toThrow();
    await expect(check(ports[service], ssl())).rejects.toThrow();
    await expect(check(ports[service], ssl(rogueClient))).rejects.toThrow();
  });
});
