import { randomUUID } from 'node:crypto';
import type { GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { createEntraTokenVerifier, type EntraTokenVerifier } from '@mailroute/platform';
import { createChannel, createClient, Metadata, type Channel, type ClientError, type CompatServiceDefinition } from 'nice-grpc';
import { startTestGraphSandbox } from './graph-sandbox-tenant';
import { randomId } from './wait-for';
import { createSignedInDirectory, type SignedInDirectory } from './spa-sign-in';

/** What a service's supervisor-caller spec signs in with: two tenants' directories and their users' ID tokens. */
export interface SupervisorCallers {
  endpoints: GraphSandboxEndpoints;
  /** The mailroute tenants the two directories map to. */
  tenantA: string;
  tenantB: string;
  /** Directory A has sam (Supervisor), carol (Agent) and erin (no role); directory B has sid (Supervisor). */
  directories: { a: SignedInDirectory; b: SignedInDirectory };
  tokens: { supervisorA: string; agentA: string; nobodyA: string; supervisorB: string };
  /** The verifier as the services' wiring builds it from *_SUPERVISOR_DIRECTORIES / _AUDIENCE / _AUTHORITY. */
  supervisorVerifier: EntraTokenVerifier;
  /** A gRPC client of `definition` at `address` sending `bearer`; its channel is closed by stop(). */
  client<Service extends CompatServiceDefinition>(
    definition: Service,
    address: string,
    bearer: string,
  ): ReturnType<typeof createClient<Service>>;
  /** Closes the clients' channels and stops the sandbox. */
  stop(): Promise<void>;
}

/**
 * A graph sandbox with two directories of one multi-tenant console app, their users signed in as the web console
 * does (auth code + PKCE on the sandbox's sign-in page, over HTTPS), and the Entra verifier mapping each directory
 * to its mailroute tenant: the set-up of the specs proving supervisors' tokens reach their own tenant only.
 */
export async function startSupervisorCallers(): Promise<SupervisorCallers> {
  const { sandbox, endpoints } = await startTestGraphSandbox();
  const tenantA = randomId('sup-a');
  const tenantB = randomId('sup-b');
  const clientId = randomUUID();
  const directory = (name: string, users: Record<string, string[]>) =>
    createSignedInDirectory(endpoints, {
      name,
      clientId,
      redirectUri: 'http://127.0.0.1:18081/',
      password: 'sign-in-page-password',
      users,
    });
  const a = await directory(randomId('dir-a').toLowerCase(), { sam: ['Supervisor'], carol: ['Agent'], erin: [] });
  const b = await directory(randomId('dir-b').toLowerCase(), { sid: ['Supervisor'] });
  const channels: Channel[] = [];
  return {
    endpoints,
    tenantA,
    tenantB,
    directories: { a, b },
    tokens: {
      supervisorA: a.idTokens['sam'] ?? '',
      agentA: a.idTokens['carol'] ?? '',
      nobodyA: a.idTokens['erin'] ?? '',
      supervisorB: b.idTokens['sid'] ?? '',
    },
    supervisorVerifier: createEntraTokenVerifier({
      directories: new Map([
        [a.directoryId, tenantA],
        [b.directoryId, tenantB],
      ]),
      audience: [clientId],
      authority: endpoints.baseUrl,
    }),
    client(definition, address, bearer) {
      const channel = createChannel(address);
      channels.push(channel);
      return createClient(definition, channel, { '*': { metadata: Metadata({ authorization: `Bearer ${bearer}` }) } });
    },
    async stop() {
      channels.forEach((channel) => channel.close());
      await sandbox.stop();
    },
  };
}

/** The gRPC error of a call that must fail (a call that succeeds fails the test). */
export function grpcFailure(call: Promise<unknown>): Promise<ClientError> {
  return call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error as ClientError,
  );
}
