import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Metadata, Status, type ClientError } from 'nice-grpc';
import {
  AuthBrokerServiceDefinition,
  AuthorityCloud,
  DiagnosticCheck,
  type DiagnosticFinding,
  type TenantCredentialsSpec,
} from '@mailroute/contracts';
import { createGraphSandbox, type GraphSandbox } from '@mailroute/graph-sandbox';
import { createGrpcClient, hashBearerCredential } from '@mailroute/platform';
import { freePort, startServiceProcess, type ServiceProcess } from '@mailroute/testing';

// A tenant admin chooses a CUSTOM cloud's hosts; auth-broker then fetches from them (token requests,
// diagnosis). The real auth-broker process, configured like a deployment that allows two extra
// origins: a port where nothing listens and a graph sandbox whose CA the process does not trust.

describe('custom cloud endpoints (auth-broker process)', () => {
  const workDir = mkdtempSync(path.join(tmpdir(), 'auth-broker-clouds-'));
  const apiKey = `mrk_${randomBytes(16).toString('hex')}`;
  const auth = { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) };
  let sandbox: GraphSandbox;
  let untrustedOrigin: string;
  let closedOrigin: string;
  let proc: ServiceProcess;
  let client: ReturnType<typeof createGrpcClient<typeof AuthBrokerServiceDefinition>>;

  beforeAll(async () => {
    // Not trusted by the child: it gets no NODE_EXTRA_CA_CERTS for this sandbox's CA.
    sandbox = createGraphSandbox({ certDir: path.join(workDir, 'sandbox-certs') });
    untrustedOrigin = (await sandbox.start()).baseUrl;
    closedOrigin = `https://127.0.0.1:${await freePort()}`;
    proc = startServiceProcess('apps/auth-broker/src/main.ts', {
      GRPC_PORT: '0',
      AUTH_BROKER_METRICS_PORT: '0',
      AUTH_BROKER_STORE: 'embedded',
      AUTH_BROKER_EMBEDDED_PATH: path.join(workDir, 'auth-broker.db'),
      AUTH_BROKER_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      AUTH_BROKER_API_KEYS: `wm:tenant-a:credentials.read+credentials.write:${hashBearerCredential(apiKey)}`,
      AUTH_BROKER_ALLOWED_CLOUD_ORIGINS: `${closedOrigin},${untrustedOrigin}`,
    });
    client = createGrpcClient(AuthBrokerServiceDefinition, `127.0.0.1:${await proc.port()}`, { deadlineMs: 60_000 });
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await proc?.stop();
    await sandbox?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  const spec = (cloud: AuthorityCloud, authorityHost: string, graphEndpoint: string): TenantCredentialsSpec => ({
    displayName: 'Contoso',
    directoryId: '11111111-2222-4333-8444-555555555555',
    clientId: '66666666-7777-4888-9999-000000000000',
    cloud,
    authorityHost,
    graphEndpoint,
    credential: {
      $case: 'clientSecret',
      value: { value: 'a-client-secret-value', expiresAt: new Date(Date.now() + 90 * 86_400_000) },
    },
  });

  async function refusal(credentialsId: string, request: TenantCredentialsSpec): Promise<ClientError> {
    try {
      await client.client.createTenantCredentials({ credentialsId, spec: request }, auth);
    } catch (error) {
      return error as ClientError;
    }
    throw new Error('expected the call to fail');
  }

  it.each([
    ['link-local (cloud metadata)', 'https://169.254.169.254', 'https://graph.microsoft.com', 'spec.authority_host'],
    ['loopback', 'https://127.0.0.1:22', 'https://graph.microsoft.com', 'spec.authority_host'],
    ['a private range', 'https://10.0.0.1:8443', 'https://graph.microsoft.com', 'spec.authority_host'],
    ['a Graph endpoint on a private host', 'https://login.microsoftonline.com', 'https://192.168.1.10', 'spec.graph_endpoint'],
  ])(
    'refuses a CUSTOM cloud on %s the operator did not allow, naming the field and not echoing the host',
    async (_name, authorityHost, graphEndpoint, field) => {
      const error = await refusal('refused', spec(AuthorityCloud.AUTHORITY_CLOUD_CUSTOM, authorityHost, graphEndpoint));
      expect(error.code).toBe(Status.INVALID_ARGUMENT);
      expect(error.details).toContain(field);
      expect(error.details).not.toContain(new URL(field === 'spec.graph_endpoint' ? graphEndpoint : authorityHost).hostname);
    },
  );

  it("accepts the national clouds, and CUSTOM hosts that are a national cloud's or that the operator allows", async () => {
    await client.client.createTenantCredentials(
      { credentialsId: 'global', spec: spec(AuthorityCloud.AUTHORITY_CLOUD_GLOBAL, '', '') },
      auth,
    );
    await client.client.createTenantCredentials(
      {
        credentialsId: 'custom-national',
        spec: spec(AuthorityCloud.AUTHORITY_CLOUD_CUSTOM, 'https://login.microsoftonline.us', 'https://graph.microsoft.us'),
      },
      auth,
    );
    await client.client.createTenantCredentials(
      { credentialsId: 'closed', spec: spec(AuthorityCloud.AUTHORITY_CLOUD_CUSTOM, closedOrigin, closedOrigin) },
      auth,
    );
    await client.client.createTenantCredentials(
      { credentialsId: 'untrusted', spec: spec(AuthorityCloud.AUTHORITY_CLOUD_CUSTOM, untrustedOrigin, untrustedOrigin) },
      auth,
    );
    const listed = await client.client.listTenantCredentials({ page: { pageSize: 50, pageToken: '' } }, auth);
    expect(listed.credentials.map((credentials) => credentials.credentialsId).sort()).toEqual([
      'closed',
      'custom-national',
      'global',
      'untrusted',
    ]);
  });

  it('answers a host whose TLS is not trusted exactly like a host that does not answer', async () => {
    // From the network check on (the first two name the credentials and their expiry instant).
    const comparable = (findings: readonly DiagnosticFinding[]) =>
      findings
        .filter(
          (finding) =>
            finding.check !== DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIALS_CONFIGURED &&
            finding.check !== DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_EXPIRY,
        )
        .map((finding) => {
          const { correlation_id: _correlationId, ...details } = finding.details;
          return { ...finding, details };
        });
    const [closed, untrusted] = await Promise.all(
      ['closed', 'untrusted'].map((credentialsId) => client.client.diagnoseTenant({ credentialsId }, auth)),
    );
    const reachable = (findings: readonly DiagnosticFinding[] | undefined) =>
      findings?.find((finding) => finding.check === DiagnosticCheck.DIAGNOSTIC_CHECK_AUTHORITY_REACHABLE);
    expect(reachable(closed?.diagnosis?.findings)?.message).toMatch(/could not be reached/);
    expect(untrusted?.diagnosis?.result).toBe(closed?.diagnosis?.result);
    expect(comparable(untrusted?.diagnosis?.findings ?? [])).toEqual(comparable(closed?.diagnosis?.findings ?? []));
    // Neither the credentials' state tells them apart (a TLS failure used to mark them REJECTED).
    const [closedState, untrustedState] = await Promise.all(
      ['closed', 'untrusted'].map(
        async (credentialsId) => (await client.client.getTenantCredentials({ credentialsId }, auth)).credentials?.state,
      ),
    );
    expect(untrustedState).toBe(closedState);
  });
});
