import { randomBytes } from 'node:crypto';
import { Metadata } from 'nice-grpc';
import { MongoClient } from 'mongodb';
import { AccessTokenServiceDefinition, AuthBrokerServiceDefinition, AuthorityCloud } from '@mailroute/contracts';
import { createGraphSandbox, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { createGrpcClient, hashBearerCredential } from '@mailroute/platform';
import { randomId, startServiceProcess, testInfra, type ServiceProcess } from '@mailroute/testing';

/**
 * The acceptance test of the shared token cache: two real auth-broker processes on one FerretDB
 * database, cold caches, 200 concurrent GetAccessToken callers for one tenant → Entra ID (the
 * graph sandbox) sees one token request.
 */
describe('two auth-broker processes sharing one store', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  const replicas: ServiceProcess[] = [];
  const database = randomId('auth-broker-replicas');
  const tenant = randomId('tenant');
  const apiKey = `mrk_${randomBytes(16).toString('hex')}`;
  const serviceToken = `mrs_${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    sandbox = createGraphSandbox({ trustCaInProcess: true });
    endpoints = await sandbox.start();
    const env = {
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
      AUTH_BROKER_STORE: 'mongodb',
      AUTH_BROKER_MONGODB_URL: testInfra().mongoUrl,
      AUTH_BROKER_MONGODB_DATABASE: database,
      AUTH_BROKER_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      AUTH_BROKER_API_KEYS: `wm:${tenant}:credentials.read+credentials.write:${hashBearerCredential(apiKey)}`,
      AUTH_BROKER_SERVICE_TOKENS: `mailbox-fetch:${hashBearerCredential(serviceToken)}`,
      AUTH_BROKER_ALLOWED_CLOUD_ORIGINS: endpoints.baseUrl,
      AUTH_BROKER_METRICS_PORT: '0',
    };
    replicas.push(
      startServiceProcess('apps/auth-broker/src/main.ts', env),
      startServiceProcess('apps/auth-broker/src/main.ts', env),
    );
  });

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    const client = await MongoClient.connect(testInfra().mongoUrl);
    await client.db(database).dropDatabase();
    await client.close();
    await sandbox?.stop();
  });

  it('makes one Entra ID token request for 200 concurrent callers spread over both replicas', async () => {
    const directory = await endpoints.admin.createTenant({ domain: `${randomId('d')}.example` });
    const app = await endpoints.admin.createApp(directory.id, { applicationPermissions: ['Mail.ReadWrite', 'Mail.Send'] });
    const secret = await endpoints.admin.addSecret(directory.id, app.clientId);
    const ports = await Promise.all(replicas.map((replica) => replica.port()));
    const admins = ports.map((port) =>
      createGrpcClient(AuthBrokerServiceDefinition, `127.0.0.1:${port}`, { deadlineMs: 60_000 }),
    );
    const tokens = ports.map((port) =>
      createGrpcClient(AccessTokenServiceDefinition, `127.0.0.1:${port}`, { deadlineMs: 60_000 }),
    );
    try {
      const [admin] = admins.map((handle) => handle.client);
      if (!admin) throw new Error('expected a replica');
      await admin.createTenantCredentials(
        {
          credentialsId: '',
          spec: {
            displayName: 'replicas',
            directoryId: directory.id,
            clientId: app.clientId,
            cloud: AuthorityCloud.AUTHORITY_CLOUD_CUSTOM,
            authorityHost: endpoints.baseUrl,
            graphEndpoint: endpoints.baseUrl,
            credential: {
              $case: 'clientSecret',
              value: { value: secret.secretText, expiresAt: new Date(Date.now() + 90 * 86_400_000) },
            },
          },
        },
        { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) },
      );
      const [first, second] = tokens.map((handle) => handle.client);
      if (!first || !second) throw new Error('expected two replicas');
      const metadata = Metadata({ authorization: `Bearer ${serviceToken}` });
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (i % 2 === 0 ? first : second).getAccessToken(
            { tenantId: tenant, principal: { $case: 'appOnly', value: { credentialsId: '' } }, forceRefresh: false },
            { metadata },
          ),
        ),
      );
      expect(new Set(results.map((result) => result.accessToken)).size).toBe(1);
      const stats = await endpoints.admin.stats(directory.id);
      expect(stats.tokenRequests).toBe(1);
      expect(stats.tokenRequestsByGrant).toEqual({ client_credentials: 1 });
    } finally {
      for (const handle of [...admins, ...tokens]) handle.close();
    }
  });
});
