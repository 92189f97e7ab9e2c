import { randomUUID } from 'node:crypto';
import { createChannel, createClient, Metadata, Status, type Channel, type ClientError } from 'nice-grpc';
import { InteractionRouterServiceDefinition, type InteractionRouterServiceClient } from '@mailroute/contracts';
import { createEntraTokenVerifier } from '@mailroute/platform';
import { createSignedInDirectory, randomId, signInAsSpa, startTestGraphSandbox, testInfra, waitFor } from '@mailroute/testing';
import { startHarness, type Harness } from '../../test/router-harness';

/**
 * Supervisors sign in with Microsoft (the desktop app, as the web console does: auth code + PKCE on the
 * graph sandbox's sign-in page, over HTTPS) and call the workload-manager API with their ID token; the
 * Supervisor app role grants it for their own tenant only. Real gRPC over a socket, real Kafka and FerretDB.
 */
describe('supervisors on the workload-manager API with their Entra token', () => {
  const tenantA = randomId('sup-a');
  const tenantB = randomId('sup-b');
  const password = 'sign-in-page-password';
  const redirectUri = 'http://127.0.0.1:18081/';
  let stopSandbox: () => Promise<void>;
  let harness: Harness;
  const channels: Channel[] = [];
  const tokens = { supervisorA: '', supervisorAccessA: '', agentA: '', nobodyA: '', supervisorB: '', unlistedDirectory: '' };
  let interactionB = '';

  const client = (bearer: string): InteractionRouterServiceClient => {
    const address = harness.replicas[0]?.address ?? '';
    const channel = createChannel(address);
    channels.push(channel);
    return createClient(InteractionRouterServiceDefinition, channel, {
      '*': { metadata: Metadata({ authorization: `Bearer ${bearer}` }) },
    });
  };
  const failure = (call: Promise<unknown>) =>
    call.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (error: unknown) => error as ClientError,
    );

  beforeAll(async () => {
    const { sandbox, endpoints } = await startTestGraphSandbox();
    stopSandbox = () => sandbox.stop();
    const clientId = randomUUID();
    // The desktop app is multi-tenant: the same client id in both directories, with the roles in each.
    const directory = (name: string, users: Record<string, string[]>) =>
      createSignedInDirectory(endpoints, { name, clientId, redirectUri, password, users });
    const a = await directory(randomId('dir-a').toLowerCase(), { sam: ['Supervisor'], carol: ['Agent'], erin: [] });
    const b = await directory(randomId('dir-b').toLowerCase(), { sid: ['Supervisor'] });
    const unlisted = await directory(randomId('dir-x').toLowerCase(), { xavier: ['Supervisor'] });
    // An access token for the desktop app's own API (aud = its client id, v2.0) carries the roles too.
    const supervisorAccess = await signInAsSpa(endpoints, {
      authority: a.directoryId,
      clientId,
      redirectUri,
      user: `sam@${a.domain}`,
      password,
      scope: `api://${clientId}/access_as_user openid profile offline_access`,
    });
    Object.assign(tokens, {
      supervisorAccessA: supervisorAccess.accessToken,
      supervisorA: a.idTokens['sam'],
      agentA: a.idTokens['carol'],
      nobodyA: a.idTokens['erin'],
      supervisorB: b.idTokens['sid'],
      unlistedDirectory: unlisted.idTokens['xavier'],
    });
    // The router's verifier as wiring.ts builds it, against the sandbox's real JWKS over HTTPS.
    const verifier = createEntraTokenVerifier({
      directories: new Map([
        [a.directoryId, tenantA],
        [b.directoryId, tenantB],
      ]),
      audience: clientId,
      authority: endpoints.baseUrl,
    });
    harness = await startHarness({ infra: testInfra(), replicas: 1, tenants: [tenantA, tenantB], verifier });

    await harness.admin(tenantB).createQueue({ queueId: 'b-queue', queue: { displayName: 'B only' } });
    interactionB = `ixn-${randomUUID()}`;
    await harness.publishInbound({ tenantId: tenantB, interactionId: interactionB });
    await waitFor(
      async () =>
        (
          await harness
            .admin(tenantB)
            .getInteraction({ interactionId: interactionB })
            .catch(() => undefined)
        )?.interaction,
      { timeoutMs: 60_000, intervalMs: 200, description: "tenant B's interaction" },
    );
  });

  afterAll(async () => {
    channels.forEach((channel) => channel.close());
    await harness?.close();
    await stopSandbox?.();
  });

  it("accepts a Supervisor's token for reads and changes in the token's own tenant, next to the tenant's API key", async () => {
    const supervisor = client(tokens.supervisorA);
    await supervisor.createQueue({ queueId: 'sup-queue', queue: { displayName: 'Created by a supervisor' } });
    expect((await supervisor.listQueues({})).queues.map((queue) => queue.queueId)).toContain('sup-queue');
    // The same tenant as the API key of tenant A sees it: the tenant came from the token's directory.
    const byKey = await harness.admin(tenantA).getQueue({ queueId: 'sup-queue' });
    expect(byKey.queue?.displayName).toBe('Created by a supervisor');
  });

  it("accepts a Supervisor's access token for the desktop app's own API (api://<client id>/access_as_user) too", async () => {
    expect((await client(tokens.supervisorAccessA).listQueues({})).queues.map((queue) => queue.queueId)).toContain('sup-queue');
  });

  it("refuses another tenant's data to a supervisor: B's queue and interaction are NOT_FOUND, lists hold none of B", async () => {
    const supervisor = client(tokens.supervisorA);
    expect((await failure(supervisor.getQueue({ queueId: 'b-queue' }))).code).toBe(Status.NOT_FOUND);
    expect((await failure(supervisor.getInteraction({ interactionId: interactionB }))).code).toBe(Status.NOT_FOUND);
    expect((await supervisor.listQueues({})).queues.map((queue) => queue.queueId)).not.toContain('b-queue');
    // B's own supervisor sees B's data, and not A's.
    const supervisorB = client(tokens.supervisorB);
    expect((await supervisorB.getInteraction({ interactionId: interactionB })).interaction?.interactionId).toBe(interactionB);
    expect((await failure(supervisorB.getQueue({ queueId: 'sup-queue' }))).code).toBe(Status.NOT_FOUND);
  });

  it('answers PERMISSION_DENIED, saying why, to a signed-in user without the Supervisor role (an agent or nobody)', async () => {
    for (const token of [tokens.nobodyA, tokens.agentA]) {
      const error = await failure(client(token).listQueues({}));
      expect(error.code).toBe(Status.PERMISSION_DENIED);
      expect(error.details).toMatch(/does not hold the "Supervisor" app role/);
    }
    const write = await failure(client(tokens.nobodyA).createQueue({ queueId: 'nope', queue: { displayName: 'x' } }));
    expect(write.code).toBe(Status.PERMISSION_DENIED);
    expect((await failure(harness.admin(tenantA).getQueue({ queueId: 'nope' }))).code).toBe(Status.NOT_FOUND);
  });

  it('answers UNAUTHENTICATED to a Supervisor of a directory the router does not list, and to a tampered token', async () => {
    expect((await failure(client(tokens.unlistedDirectory).listQueues({}))).code).toBe(Status.UNAUTHENTICATED);
    const [header, payload] = tokens.supervisorA.split('.');
    const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;
    expect((await failure(client(forged).listQueues({}))).code).toBe(Status.UNAUTHENTICATED);
  });

  it('keeps API keys working for automation', async () => {
    const admin = harness.admin(tenantA);
    await admin.createQueue({ queueId: 'automation', queue: { displayName: 'By API key' } });
    expect((await admin.listQueues({})).queues.map((queue) => queue.queueId)).toEqual(
      expect.arrayContaining(['automation', 'sup-queue']),
    );
    expect((await failure(client('mrk_not-a-key').listQueues({}))).code).toBe(Status.UNAUTHENTICATED);
  });
});
