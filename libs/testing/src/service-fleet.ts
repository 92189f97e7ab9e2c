import { createServer } from 'node:net';
import { createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import type { GraphSandboxAdminClient, GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { waitFor } from './wait-for';

/** A free TCP port on 127.0.0.1 (bound once and released), for a service whose address must survive its restarts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Waits until `address` answers grpc.health.v1 Check with SERVING (as a Kubernetes gRPC readiness probe does). */
export async function waitForServing(address: string, options: { timeoutMs?: number; service?: string } = {}): Promise<void> {
  const channel = createChannel(address);
  try {
    const health = createClient(HealthDefinition, channel);
    await waitFor(
      async () => {
        try {
          const answer = await health.check({ service: options.service ?? '' }, { signal: AbortSignal.timeout(3_000) });
          return answer.status === 1 ? true : undefined;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 200, description: `grpc.health.v1 SERVING on ${address}` },
    );
  } finally {
    channel.close();
  }
}

/**
 * Signs a user in to a public-client app through the sandbox's device-code flow (the code approved
 * through the admin API, as the user would in a browser) and returns the ID token.
 */
export async function signInWithDeviceCode(
  endpoints: GraphSandboxEndpoints,
  admin: GraphSandboxAdminClient,
  directoryId: string,
  clientId: string,
  upn: string,
): Promise<string> {
  const base = `${endpoints.baseUrl}/${directoryId}/oauth2/v2.0`;
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const codeResponse = await fetch(`${base}/devicecode`, form({ client_id: clientId, scope: 'openid profile offline_access' }));
  if (!codeResponse.ok) throw new Error(`device code request failed: ${codeResponse.status} ${await codeResponse.text()}`);
  const code = (await codeResponse.json()) as { device_code: string; user_code: string; interval?: number };
  await admin.approveDeviceCode(code.user_code, upn);
  return waitFor(
    async () => {
      const tokenResponse = await fetch(
        `${base}/token`,
        form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: clientId, device_code: code.device_code }),
      );
      const body = (await tokenResponse.json()) as { id_token?: string; error?: string };
      if (tokenResponse.ok && body.id_token) return body.id_token;
      if (body.error !== 'authorization_pending' && body.error !== 'slow_down')
        throw new Error(`sign-in of ${upn} failed: ${body.error ?? tokenResponse.status}`);
      return undefined;
    },
    { timeoutMs: 60_000, intervalMs: Math.max(1, code.interval ?? 1) * 1_000, description: `the sign-in of ${upn}` },
  );
}
