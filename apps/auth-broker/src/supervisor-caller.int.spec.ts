import { randomUUID } from 'node:crypto';
import { AuthBrokerServiceDefinition, AuthorityCloud, type TenantCredentialsSpec } from '@mailroute/contracts';
import { createCallerAuthenticator, createLogger, createSecretBox, hashBearerCredential } from '@mailroute/platform';
import { grpcFailure as failure, randomId, startSupervisorCallers, type SupervisorCallers } from '@mailroute/testing';
import { Status } from 'nice-grpc';
import { composeAuthBroker, type ComposedAuthBroker } from './compose';
import { openEmbeddedStores } from './store/auth-broker.stores';

/**
 * Supervisors look after their tenant's credentials from the web console with the token they signed in with
 * (auth code + PKCE on the graph sandbox's sign-in page, over HTTPS): the Supervisor app role grants
 * AuthBrokerService in their own tenant only, as the router's workload-manager API does. Real gRPC over a
 * socket, the verifier fetching the sandbox's JWKS.
 */
describe('supervisors on AuthBrokerService with their Entra token', () => {
  const logger = createLogger({ name: 'auth-broker-supervisors', level: 'silent' });
  const keyB = `mrk_${randomId('b')}`;
  let callers: SupervisorCallers;
  let broker: ComposedAuthBroker;
  let address = '';
  let spec: (directoryId: string) => TenantCredentialsSpec;
  const tokens = { supervisorA: '', agentA: '', nobodyA: '', supervisorB: '' };
  const directories = { a: '', b: '' };

  const client = (bearer: string) => callers.client(AuthBrokerServiceDefinition, address, bearer);

  beforeAll(async () => {
    callers = await startSupervisorCallers();
    const { endpoints } = callers;
    Object.assign(tokens, callers.tokens);
    Object.assign(directories, { a: callers.directories.a.directoryId, b: callers.directories.b.directoryId });
    spec = (directoryId) => ({
      displayName: 'Mail app',
      directoryId,
      clientId: randomUUID(),
      cloud: AuthorityCloud.AUTHORITY_CLOUD_CUSTOM,
      authorityHost: endpoints.baseUrl,
      graphEndpoint: endpoints.baseUrl,
      credential: { $case: 'clientSecret', value: { value: 'secret', expiresAt: new Date(Date.now() + 30 * 86_400_000) } },
    });
    const key = { id: 'k', key: Buffer.alloc(32, 5) };
    broker = composeAuthBroker(
      {
        stores: openEmbeddedStores(':memory:'),
        secretBox: createSecretBox({ keys: [key], activeKeyId: key.id }),
        logger,
        authenticator: createCallerAuthenticator({
          apiKeys: [
            {
              id: 'b',
              tenantId: callers.tenantB,
              scopes: ['credentials.read', 'credentials.write'],
              sha256: hashBearerCredential(keyB),
            },
          ],
        }),
        supervisorVerifier: callers.supervisorVerifier,
      },
      { allowedCloudOrigins: [new URL(endpoints.baseUrl).origin] },
    );
    address = `127.0.0.1:${await broker.server.listen('127.0.0.1', 0)}`;
    await client(keyB).createTenantCredentials({ credentialsId: 'b-app', spec: spec(directories.b) });
  });

  afterAll(async () => {
    await broker?.server.shutdown(1_000);
    await broker?.stop();
    await callers?.stop();
  });

  it("lets a Supervisor of tenant A create, list and update tenant A's credentials", async () => {
    const supervisor = client(tokens.supervisorA);
    await supervisor.createTenantCredentials({ credentialsId: 'a-app', spec: spec(directories.a) });
    const read = await supervisor.getTenantCredentials({ credentialsId: 'a-app' });
    const updated = await supervisor.updateTenantCredentials({
      credentialsId: 'a-app',
      spec: { ...spec(directories.a), displayName: 'Renamed by a supervisor' },
      updateMask: ['display_name'],
      etag: read.credentials?.etag ?? '',
    });
    expect(updated.credentials?.displayName).toBe('Renamed by a supervisor');
    expect((await supervisor.listTenantCredentials({})).credentials.map((entry) => entry.credentialsId)).toEqual(['a-app']);
  });

  it("refuses tenant B's credentials to tenant A's supervisor (NOT_FOUND), and B's supervisor sees B's only", async () => {
    const supervisor = client(tokens.supervisorA);
    expect((await failure(supervisor.getTenantCredentials({ credentialsId: 'b-app' }))).code).toBe(Status.NOT_FOUND);
    const update = supervisor.updateTenantCredentials({
      credentialsId: 'b-app',
      spec: { ...spec(directories.b), displayName: 'hijacked' },
      updateMask: ['display_name'],
      etag: '',
    });
    expect((await failure(update)).code).toBe(Status.NOT_FOUND);
    expect((await client(keyB).getTenantCredentials({ credentialsId: 'b-app' })).credentials?.displayName).toBe('Mail app');
    const ofB = await client(tokens.supervisorB).listTenantCredentials({});
    expect(ofB.credentials.map((entry) => entry.credentialsId)).toEqual(['b-app']);
  });

  it('answers PERMISSION_DENIED, saying why, to a signed-in user without the Supervisor role (an agent or nobody)', async () => {
    for (const token of [tokens.agentA, tokens.nobodyA]) {
      const error = await failure(client(token).listTenantCredentials({}));
      expect(error.code).toBe(Status.PERMISSION_DENIED);
      expect(error.details).toMatch(/does not hold the "Supervisor" app role/);
    }
    const write = client(tokens.agentA).createTenantCredentials({ credentialsId: 'by-agent', spec: spec(directories.a) });
    expect((await failure(write)).code).toBe(Status.PERMISSION_DENIED);
  });

  it('answers UNAUTHENTICATED to a tampered token, and keeps API keys working', async () => {
    const [header, payload] = tokens.supervisorA.split('.');
    const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;
    expect((await failure(client(forged).listTenantCredentials({}))).code).toBe(Status.UNAUTHENTICATED);
    expect((await client(keyB).listTenantCredentials({})).credentials).toHaveLength(1);
  });
});
