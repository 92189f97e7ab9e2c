import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError, type ServiceConfig } from '@mailroute/platform';
import type { KafkaConfig, SASLOptions } from 'kafkajs';

/** The common KAFKA_* variables (libs/platform serviceConfigSchema), already validated. */
export type KafkaSecurityConfig = Pick<
  ServiceConfig,
  | 'KAFKA_TLS'
  | 'KAFKA_TLS_CA_FILE'
  | 'KAFKA_TLS_CERT_FILE'
  | 'KAFKA_TLS_KEY_FILE'
  | 'KAFKA_TLS_SERVER_NAME'
  | 'KAFKA_SASL_MECHANISM'
  | 'KAFKA_SASL_USERNAME'
  | 'KAFKA_SASL_PASSWORD'
  | 'KAFKA_SASL_PASSWORD_FILE'
  | 'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE'
  | 'KAFKA_SASL_OAUTHBEARER_TOKEN_URL'
  | 'KAFKA_SASL_OAUTHBEARER_CLIENT_ID'
  | 'KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE'
  | 'KAFKA_SASL_OAUTHBEARER_SCOPE'
>;

/**
 * How the bus authenticates to Kafka: the kafkajs `ssl` and `sasl` settings, a redacted summary for
 * the start-up log, and the variables that fix each kind of failure (named in the ConfigError the
 * bus throws when the brokers refuse it).
 */
export interface KafkaSecurity {
  ssl?: KafkaConfig['ssl'];
  sasl?: SASLOptions;
  /** What is on, without secrets: `{ tls: true, sasl: 'scram-sha-512' }`. */
  summary: { tls: boolean; sasl?: string };
  /** Variables named when the broker rejects the credentials / the certificate does not verify. */
  variables: { credentials: string; trust: string };
}

/**
 * The bus's TLS and SASL settings from the common KAFKA_* variables. Files (CA bundle, client
 * certificate and key, password, client secret) are read here, once; a token file is read again at
 * every authentication, so a sidecar that refreshes it needs no restart. An unreadable file is a
 * ConfigError naming its variable.
 */
export function kafkaSecurityFromConfig(config: KafkaSecurityConfig, options: { fetch?: typeof fetch } = {}): KafkaSecurity {
  const read = (variable: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError([{ variable, problem: 'names a file that cannot be read' }]);
    }
  };
  let ssl: KafkaConfig['ssl'];
  if (config.KAFKA_TLS) {
    const tls: ConnectionOptions = {};
    if (config.KAFKA_TLS_CA_FILE) tls.ca = [read('KAFKA_TLS_CA_FILE', config.KAFKA_TLS_CA_FILE)];
    if (config.KAFKA_TLS_CERT_FILE) tls.cert = read('KAFKA_TLS_CERT_FILE', config.KAFKA_TLS_CERT_FILE);
    if (config.KAFKA_TLS_KEY_FILE) tls.key = read('KAFKA_TLS_KEY_FILE', config.KAFKA_TLS_KEY_FILE);
    if (config.KAFKA_TLS_SERVER_NAME) tls.servername = config.KAFKA_TLS_SERVER_NAME;
    ssl = Object.keys(tls).length > 0 ? tls : true;
  }
  const trust = config.KAFKA_TLS_CA_FILE ? 'KAFKA_TLS_CA_FILE' : 'KAFKA_TLS_CA_FILE (or NODE_EXTRA_CA_CERTS)';
  const mechanism = config.KAFKA_SASL_MECHANISM;
  const summary = { tls: Boolean(config.KAFKA_TLS), ...(mechanism ? { sasl: mechanism } : {}) };
  if (!mechanism) return { ssl, summary, variables: { credentials: 'KAFKA_SASL_MECHANISM', trust } };
  if (mechanism === 'oauthbearer') {
    const tokenFile = config.KAFKA_SASL_OAUTHBEARER_TOKEN_FILE;
    const provider = tokenFile
      ? async () => ({ value: read('KAFKA_SASL_OAUTHBEARER_TOKEN_FILE', tokenFile).trim() })
      : createClientCredentialsTokenProvider({
          tokenUrl: config.KAFKA_SASL_OAUTHBEARER_TOKEN_URL ?? '',
          clientId: config.KAFKA_SASL_OAUTHBEARER_CLIENT_ID ?? '',
          clientSecret: read('KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE', config.KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE ?? ''),
          scope: config.KAFKA_SASL_OAUTHBEARER_SCOPE,
          fetch: options.fetch,
        });
    return {
      ssl,
      sasl: { mechanism: 'oauthbearer', oauthBearerProvider: provider },
      summary,
      variables: {
        credentials: tokenFile
          ? 'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE'
          : 'KAFKA_SASL_OAUTHBEARER_CLIENT_ID/KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE',
        trust,
      },
    };
  }
  const password = config.KAFKA_SASL_PASSWORD_FILE
    ? read('KAFKA_SASL_PASSWORD_FILE', config.KAFKA_SASL_PASSWORD_FILE).replace(/\r?\n$/, '')
    : (config.KAFKA_SASL_PASSWORD ?? '');
  const username = config.KAFKA_SASL_USERNAME ?? '';
  // kafkajs types each mechanism apart; the three take the same fields.
  const sasl = { mechanism, username, password } as SASLOptions;
  return {
    ssl,
    sasl,
    summary,
    variables: {
      credentials: `KAFKA_SASL_USERNAME/${config.KAFKA_SASL_PASSWORD_FILE ? 'KAFKA_SASL_PASSWORD_FILE' : 'KAFKA_SASL_PASSWORD'}`,
      trust,
    },
  };
}

/**
 * An OAUTHBEARER token provider for the OAuth 2.0 client-credentials grant (what Azure Event Hubs'
 * and Confluent Cloud's OAuth endpoints take): one form POST, the token kept until a minute before
 * it expires. Hand-written because kafkajs wants only `{ value }` and a full OIDC client (discovery,
 * JWKS) would add nothing here.
 */
function createClientCredentialsTokenProvider(options: {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  fetch?: typeof fetch;
  now?: () => number;
}): () => Promise<{ value: string }> {
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? fetch;
  let cached: { value: string; refreshAt: number } | undefined;
  return async () => {
    if (cached && now() < cached.refreshAt) return { value: cached.value };
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: options.clientId,
      client_secret: options.clientSecret,
    });
    if (options.scope) body.set('scope', options.scope);
    const response = await doFetch(options.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      signal: AbortSignal.timeout(15_000),
    });
    const answer = (await response.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
    if (!response.ok || typeof answer.access_token !== 'string') {
      // The body may echo the request; only the status is reported.
      throw Object.assign(new Error(`kafka: the OAuth token endpoint answered HTTP ${response.status} without a token`), {
        oauthStatus: response.status,
      });
    }
    const lifetimeMs = (typeof answer.expires_in === 'number' ? answer.expires_in : Number(answer.expires_in) || 300) * 1000;
    cached = { value: answer.access_token, refreshAt: now() + Math.max(lifetimeMs - 60_000, lifetimeMs / 2) };
    return { value: cached.value };
  };
}

/** TLS verification failures: the broker's certificate is not trusted by the configured CA bundle, or names another host. */
const certificateErrorCodes = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The configuration problem behind a Kafka failure, if it is one that retrying cannot fix: the
 * brokers rejected the SASL credentials, their certificate did not verify, or the OAuth token
 * endpoint refused the client. Reads error names and codes along the
 * cause chain (kafkajs wraps the socket error), never message text. Undefined: a broker that is
 * away, which is retried.
 */
export function toKafkaConfigError(error: unknown, security: KafkaSecurity): ConfigError | undefined {
  for (const candidate of causeChain(error)) {
    const { name, code, oauthStatus } = candidate as { name?: unknown; code?: unknown; oauthStatus?: unknown };
    if (
      name === 'KafkaJSSASLAuthenticationError' ||
      (typeof oauthStatus === 'number' && oauthStatus >= 400 && oauthStatus < 500)
    ) {
      return new ConfigError([
        { variable: security.variables.credentials, problem: 'is rejected: the Kafka brokers refused the SASL authentication' },
      ]);
    }
    if (typeof code === 'string' && certificateErrorCodes.has(code)) {
      return new ConfigError([
        { variable: security.variables.trust, problem: `does not verify the Kafka brokers' certificate (${code})` },
      ]);
    }
  }
  return undefined;
}

function* causeChain(error: unknown, depth = 0): Generator<object> {
  if (typeof error !== 'object' || error === null || depth > 8) return;
  yield error;
  const { cause, originalError, errors, attempts } = error as {
    cause?: unknown;
    originalError?: unknown;
    errors?: unknown;
    attempts?: unknown;
  };
  yield* causeChain(cause, depth + 1);
  yield* causeChain(originalError, depth + 1);
  for (const list of [errors, attempts]) if (Array.isArray(list)) for (const item of list) yield* causeChain(item, depth + 1);
}
