import { createServer } from 'node:net';
import { createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import type { GraphSandboxAdminClient, GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { waitFor } from './wait-for';

// Ports handed out by this process, so that two calls never return the same one.
const handedOut = new Set<number>();

/**
 * A free TCP port on 127.0.0.1 for a service whose address must survive its restarts (so it cannot
 * listen on port 0). The port is drawn below Linux's ephemeral range (32768–60999): a port the kernel
 * handed out for port 0 and that was released can be handed to the next outgoing connection or to
 * another process's port-0 listener before the service binds it (EADDRINUSE under parallel suites),
 * which a port outside that range never is. It is checked by binding it once.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: no free port found in 20000–31999 after 200 tries');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
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
