import type { ChannelCredentials } from '@grpc/grpc-js';
import { AccessTokenServiceDefinition } from '@mailroute/contracts';
import { Metadata } from 'nice-grpc-common';
import { createGrpcClient } from './grpc-client';

/** Whose token: the tenant's app (app-only) or a mailbox owner's delegated grant. */
export type AccessTokenPrincipal = { kind: 'app-only'; credentialsId: string } | { kind: 'delegated'; mailboxAddress: string };

/** A Graph access token (a secret: never logged) and the Graph host it is for. */
export interface IssuedAccessToken {
  accessToken: string;
  graphEndpoint: string;
}

export interface AuthBrokerTokenClient {
  getToken(tenantId: string, principal: AccessTokenPrincipal, options: { forceRefresh: boolean }): Promise<IssuedAccessToken>;
  close(): void;
}

/**
 * Tokens from auth-broker's AccessTokenService for a mailroute service (mailbox-fetch, outbound-send),
 * authenticated by its service token. Cached in-process until a minute before expiry; concurrent
 * callers of one principal share one call; `forceRefresh` (after Graph answered 401) bypasses both.
 * Satisfies graph-mail's GraphTokenProvider.
 */
export function createAuthBrokerTokenClient(options: {
  address: string;
  serviceToken?: string | undefined;
  /** TLS to auth-broker (grpcClientCredentials). Default plaintext, for loopback. */
  credentials?: ChannelCredentials;
  clock?: () => number;
}): AuthBrokerTokenClient {
  const handle = createGrpcClient(AccessTokenServiceDefinition, options.address, {
    deadlineMs: 30_000,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const clock = options.clock ?? Date.now;
  const cache = new Map<string, { token: IssuedAccessToken; expiresAt: number }>();
  const inflight = new Map<string, Promise<IssuedAccessToken>>();
  const metadata = options.serviceToken ? Metadata({ authorization: `Bearer ${options.serviceToken}` }) : undefined;

  return {
    async getToken(tenantId, principal, { forceRefresh }) {
      const key = `${tenantId}|${principal.kind === 'app-only' ? `app:${principal.credentialsId}` : `del:${principal.mailboxAddress.toLowerCase()}`}`;
      const cached = cache.get(key);
      if (!forceRefresh && cached && cached.expiresAt - 60_000 > clock()) return cached.token;
      const running = inflight.get(key);
      if (running && !forceRefresh) return running;
      const request = handle.client
        .getAccessToken(
          {
            tenantId,
            principal:
              principal.kind === 'app-only'
                ? { $case: 'appOnly', value: { credentialsId: principal.credentialsId } }
                : { $case: 'delegated', value: { mailboxAddress: principal.mailboxAddress } },
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
