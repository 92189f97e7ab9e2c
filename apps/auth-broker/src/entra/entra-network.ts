import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { defaultAuthBrokerOptions } from '../auth-broker-defaults';

/** The last thing that went wrong on the wire, for classifying MSAL's often generic errors. */
export type WireProblem =
  | { kind: 'network'; code: string | undefined; message: string }
  | {
      kind: 'http';
      url: string;
      status: number;
      aadsts: number | undefined;
      error: string | undefined;
      retryAfterMs: number | undefined;
    };

export interface EntraNetworkOptions {
  /** Per-request timeout. Default 15 s. */
  timeoutMs?: number;
  /** Called for every token-endpoint POST (success or not): the "Entra calls" metric. */
  onTokenRequest?: (outcome: { status: number | undefined; url: string }) => void;
}

/**
 * MSAL's network module, built on fetch like MSAL's own, that also remembers the last wire
 * problem (TLS and connection codes, Entra's AADSTS codes, Retry-After) and counts token requests.
 * MSAL wraps discovery failures as `endpoints_resolution_error` and drops these details.
 */
export interface EntraNetwork {
  module: INetworkModule;
  readonly lastProblem: WireProblem | undefined;
  /** Forgets the last problem (call before each acquisition). */
  reset(): void;
}

export function createEntraNetwork(options: EntraNetworkOptions = {}): EntraNetwork {
  let lastProblem: WireProblem | undefined;
  const timeoutMs = options.timeoutMs ?? defaultAuthBrokerOptions.entraRequestTimeoutMs;

  async function send<T>(
    url: string,
    method: 'GET' | 'POST',
    request: NetworkRequestOptions | undefined,
  ): Promise<NetworkResponse<T>> {
    const isTokenRequest = method === 'POST' && /\/oauth2\/v2\.0\/token(\?|$)/.test(url);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: request?.headers ?? {},
        ...(method === 'POST' ? { body: request?.body ?? '' } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      lastProblem = {
        kind: 'network',
        code: cause?.code ?? ((error as Error).name === 'TimeoutError' ? 'ETIMEDOUT' : undefined),
        message: cause?.message ?? (error as Error).message,
      };
      if (isTokenRequest) options.onTokenRequest?.({ status: undefined, url });
      throw error;
    }
    if (isTokenRequest) options.onTokenRequest?.({ status: response.status, url });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const body = (await response.json()) as T;
    if (!response.ok) {
      const parsed = body as { error?: string; error_codes?: unknown[]; error_description?: string };
      const code = Number(parsed.error_codes?.[0] ?? /AADSTS(\d+)/.exec(parsed.error_description ?? '')?.[1]);
      lastProblem = {
        kind: 'http',
        url,
        status: response.status,
        aadsts: Number.isFinite(code) ? code : undefined,
        error: parsed.error,
        retryAfterMs: retryAfterMs(headers['retry-after']),
      };
    }
    return { headers, body, status: response.status };
  }

  return {
    module: {
      sendGetRequestAsync: <T>(url: string, request?: NetworkRequestOptions) => send<T>(url, 'GET', request),
      sendPostRequestAsync: <T>(url: string, request?: NetworkRequestOptions) => send<T>(url, 'POST', request),
    },
    get lastProblem() {
      return lastProblem;
    },
    reset() {
      lastProblem = undefined;
    },
  };
}

function retryAfterMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}
