// Agents for the router's scenario benches (sustained, failover): Entra-like ID tokens signed with a
// local key (served as a JWKS over HTTP when the router runs as a separate process), and desktops on
// real streams that accept and complete every offer at once, recording when each was offered and
// how many times it was accepted (a doubled interaction would be accepted twice).
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createChannel, createClient, Metadata, type Channel } from 'nice-grpc';
import { AgentDesktopServiceDefinition, InteractionRouterServiceDefinition } from '@mailroute/contracts';
import { waitFor } from '@mailroute/testing';

/** The Entra directory and signing key of a bench's agents. */
export interface AgentIdentity {
  /** The Entra directory id (`tid`) the router maps to the bench's tenant. */
  directory: string;
  audience: string;
  jwk: JWK;
  /** Token issuer for `authority` (`<authority>/<tid>/v2.0`, as Entra's). */
  sign(authority: string, index: number): Promise<string>;
}

export async function createAgentIdentity(): Promise<AgentIdentity> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const directory = `dir-${randomUUID().slice(0, 8)}`;
  const audience = 'bench';
  return {
    directory,
    audience,
    jwk,
    sign: (authority, index) =>
      new SignJWT({ tid: directory, oid: `oid-${index}`, name: `Agent ${index}` })
        .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
        .setIssuer(`${authority}/${directory}/v2.0`)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('2h')
        .sign(privateKey),
  };
}

/** Serves the identity's key at `<authority>/<tid>/discovery/v2.0/keys`, where a router process with ROUTER_AGENT_AUTHORITY looks. */
export async function serveJwks(identity: AgentIdentity): Promise<{ authority: string; server: Server }> {
  const server = createServer((request, response) => {
    const found = request.url === `/${identity.directory}/discovery/v2.0/keys`;
    response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
    response.end(found ? JSON.stringify({ keys: [identity.jwk] }) : '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { authority: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A workload-manager client of the router at `address`. */
export function adminClient(channel: Channel, apiKey: string) {
  return createClient(InteractionRouterServiceDefinition, channel, {
    '*': { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) },
  });
}

/** Creates queue `bench` (offers lapse after 60 s) and `count` agents of `capacity` in it. */
export async function createQueueAndAgents(
  admin: ReturnType<typeof adminClient>,
  count: number,
  capacity: number,
): Promise<void> {
  await admin.createQueue({ queueId: 'bench', queue: { displayName: 'Bench', offerTimeout: { seconds: 60, nanos: 0 } } });
  for (let index = 0; index < count; index += 1) {
    await admin.createAgent({
      agentId: `agent-${index}`,
      agent: { displayName: `Agent ${index}`, entraObjectId: `oid-${index}`, queueIds: ['bench'], capacity, skills: [] },
    });
  }
}

/** What the agents saw: first offer time per interaction, accepts per interaction, completions. */
export interface AgentRecord {
  offeredAt: Map<string, number>;
  accepts: Map<string, number>;
  completed: Set<string>;
  errors: string[];
}

/**
 * Signs `count` agents in on desktop streams to `address` (agent i is `oid-i`) and works every offer:
 * accept, then complete. Resolves once every stream has its snapshot; `stop()` ends them.
 */
export async function startBenchAgents(options: {
  address: string;
  identity: AgentIdentity;
  authority: string;
  count: number;
  record: AgentRecord;
}): Promise<{ stop(): Promise<void> }> {
  const { record } = options;
  const channel = createChannel(options.address);
  const stopping = new AbortController();
  const connected = new Set<number>();
  const streams = await Promise.all(
    Array.from({ length: options.count }, async (_, index) => {
      const token = await options.identity.sign(options.authority, index);
      const desktop = createClient(AgentDesktopServiceDefinition, channel, {
        '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
      });
      // Wrapped: an async callback returning the stream's promise would wait for the stream to end.
      const done = (async () => {
        try {
          for await (const message of desktop.connect({ clientInstanceId: `bench-${index}` }, { signal: stopping.signal })) {
            if (message.event?.$case === 'snapshot') connected.add(index);
            if (message.event?.$case !== 'offer') continue;
            const offer = message.event.value;
            const id = offer.interaction?.interactionId ?? '';
            if (!record.offeredAt.has(id)) record.offeredAt.set(id, performance.now());
            void desktop
              .accept({ offerId: offer.offerId })
              .then(() => record.accepts.set(id, (record.accepts.get(id) ?? 0) + 1))
              .then(() => desktop.complete({ interactionId: id, dispositionCode: 'bench', note: '' }))
              .then(() => record.completed.add(id))
              .catch((error: unknown) => record.errors.push(`agent ${index}: ${id}: ${String(error)}`));
          }
        } catch (error) {
          if (!stopping.signal.aborted) record.errors.push(`agent ${index}: stream ended: ${String(error)}`);
        }
      })();
      return { done };
    }),
  );
  await waitFor(() => connected.size === options.count, { timeoutMs: 120_000, description: 'every agent signed in' });
  return {
    async stop() {
      stopping.abort();
      await Promise.allSettled(streams.map((stream) => stream.done));
      channel.close();
    },
  };
}

export const emptyAgentRecord = (): AgentRecord => ({
  offeredAt: new Map(),
  accepts: new Map(),
  completed: new Set(),
  errors: [],
});

/** p-th percentile of ascending `sorted` (nearest rank). */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
