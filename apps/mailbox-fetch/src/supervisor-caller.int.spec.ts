import { MailboxFetchServiceDefinition } from '@mailroute/contracts';
import { InProcessEventBus } from '@mailroute/messaging';
import { createLogger, hashBearerCredential } from '@mailroute/platform';
import {
  createSandboxTokenProvider,
  grpcFailure as failure,
  randomId,
  startSupervisorCallers,
  type SupervisorCallers,
} from '@mailroute/testing';
import { Status } from 'nice-grpc';
import { composeMailboxFetch, type ComposedMailboxFetch } from './compose';
import { openEmbeddedStores } from './store/mailbox-fetch.stores';

/**
 * Supervisors configure mailboxes from the web console with the token they signed in with (auth code + PKCE on
 * the graph sandbox's sign-in page, over HTTPS): the Supervisor app role grants MailboxFetchService in their own
 * tenant only, as the router's workload-manager API does. Real gRPC over a socket, the verifier fetching the
 * sandbox's JWKS.
 */
describe('supervisors on MailboxFetchService with their Entra token', () => {
  const logger = createLogger({ name: 'mailbox-fetch-supervisors', level: 'silent' });
  const keyB = `mrk_${randomId('b')}`;
  let callers: SupervisorCallers;
  let service: ComposedMailboxFetch;
  let address = '';
  const tokens = { supervisorA: '', agentA: '', nobodyA: '', supervisorB: '' };
  const domains = { a: '', b: '' };

  const client = (bearer: string) => callers.client(MailboxFetchServiceDefinition, address, bearer);

  beforeAll(async () => {
    callers = await startSupervisorCallers();
    Object.assign(tokens, callers.tokens);
    Object.assign(domains, { a: callers.directories.a.domain, b: callers.directories.b.domain });
    service = composeMailboxFetch(
      {
        stores: openEmbeddedStores({ path: ':memory:' }),
        bus: new InProcessEventBus(),
        tokens: createSandboxTokenProvider(callers.endpoints, new Map()),
        logger,
        supervisorVerifier: callers.supervisorVerifier,
      },
      {
        replicaId: 'supervisor-test',
        apiKeys: [
          {
            id: 'b',
            tenantId: callers.tenantB,
            scopes: ['mailboxes.read', 'mailboxes.write'],
            sha256: hashBearerCredential(keyB),
          },
        ],
      },
    );
    address = `127.0.0.1:${await service.server.listen('127.0.0.1', 0)}`;
    await client(keyB).createMailbox({ mailboxId: 'b-support', mailbox: { address: `sid@${domains.b}` } });
  });

  afterAll(async () => {
    await service?.server.shutdown(1_000);
    await callers?.stop();
  });

  it("lets a Supervisor of tenant A create, list and update tenant A's mailboxes", async () => {
    const supervisor = client(tokens.supervisorA);
    await supervisor.createMailbox({ mailboxId: 'a-support', mailbox: { address: `sam@${domains.a}` } });
    const updated = await supervisor.updateMailbox({
      mailboxId: 'a-support',
      mailbox: { displayName: 'Support (by a supervisor)' },
      updateMask: ['display_name'],
    });
    expect(updated.mailbox?.displayName).toBe('Support (by a supervisor)');
    expect((await supervisor.listMailboxes({})).mailboxes.map((mailbox) => mailbox.mailboxId)).toEqual(['a-support']);
  });

  it("refuses tenant B's mailboxes to tenant A's supervisor (NOT_FOUND), and B's supervisor sees B's only", async () => {
    const supervisor = client(tokens.supervisorA);
    expect((await failure(supervisor.getMailbox({ mailboxId: 'b-support' }))).code).toBe(Status.NOT_FOUND);
    const update = supervisor.updateMailbox({
      mailboxId: 'b-support',
      mailbox: { displayName: 'x' },
      updateMask: ['display_name'],
    });
    expect((await failure(update)).code).toBe(Status.NOT_FOUND);
    expect((await client(keyB).getMailbox({ mailboxId: 'b-support' })).mailbox?.displayName).not.toBe('x');
    expect((await client(tokens.supervisorB).listMailboxes({})).mailboxes.map((mailbox) => mailbox.mailboxId)).toEqual([
      'b-support',
    ]);
  });

  it('answers PERMISSION_DENIED, saying why, to a signed-in user without the Supervisor role (an agent or nobody)', async () => {
    for (const token of [tokens.agentA, tokens.nobodyA]) {
      const error = await failure(client(token).listMailboxes({}));
      expect(error.code).toBe(Status.PERMISSION_DENIED);
      expect(error.details).toMatch(/does not hold the "Supervisor" app role/);
    }
    const write = client(tokens.agentA).createMailbox({ mailboxId: 'by-agent', mailbox: { address: `carol@${domains.a}` } });
    expect((await failure(write)).code).toBe(Status.PERMISSION_DENIED);
  });

  it('answers UNAUTHENTICATED to a tampered token, and keeps API keys working', async () => {
    const [header, payload] = tokens.supervisorA.split('.');
    const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;
    expect((await failure(client(forged).listMailboxes({}))).code).toBe(Status.UNAUTHENTICATED);
    expect((await client(keyB).listMailboxes({})).mailboxes).toHaveLength(1);
  });
});
