import { AccessTokenServiceDefinition } from '@mailroute/contracts';
import type { GraphAccessToken, GraphPrincipal, GraphTokenProvider } from '@mailroute/graph-mail';
import { createGrpcClient } from '@mailroute/platform';
import { Metadata } from 'nice-grpc-common';

/** Tokens from auth-broker's AccessTokenService, cached in-process until a minute before expiry. */
export function createAuthBrokerTokenProvider(options: { address: string; serviceToken?: string | undefined; clock?: () => number }): GraphTokenProvider & { close(): void } {
  const handle = createGrpcClient(AccessTokenServiceDefinition, options.address, { deadlineMs: 30_000 });
  const clock = options.clock ?? Date.now;
  const cache = new Map<string, { token: GraphAccessToken; expiresAt: number }>();
  const inflight = new Map<string, Promise<GraphAccessToken>>();
  const metadata = options.serviceToken ? Metadata({ authorization: `Bearer ${options.serviceToken}` }) : undefined;

  return {
    async getToken(tenantId: string, principal: GraphPrincipal, { forceRefresh }: { forceRefresh: boolean }): Promise<GraphAccessToken> {
      const key = `${tenantId}|${principal.kind === 'app-only' ? `app:${principal.credentialsId}` : `del:${principal.mailboxAddress.toLowerCase()}`}`;
      const cached = cache.get(key);
      if (!forceRefresh && cached && cached.expiresAt - 60_000 > clock()) return cached.token;
      const running = inflight.get(key);
      if (running && !forceRefresh) return running;
      const request = handle.client
        .getAccessToken(
          {
            tenantId,
            principal: principal.kind === 'app-only' ? { $case: 'appOnly', value: { credentialsId: principal.credentialsId } } : { $case: 'delegated', value: { mailboxAddress: principal.mailboxAddress } },
            forceRefresh,
          },
          metadata ? { metadata } : {},
        )
        .then((response) => {
          const token = { accessToken: response.accessToken, graphEndpoint: response.graphEndpoint };
          cache.set(key, { token, expiresAt: response.expiresAt?.getTime() ?? clock() + 300_000 });
          return token;
        })
        .finally(() => inflight.delete(key));
      inflight.set(key, request);
      return request;
    },
    close: () => handle.close(),
  };
}
