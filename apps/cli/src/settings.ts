import { readFileSync } from 'node:fs';
import { UsageError } from './errors';
import { durationSeconds, parseDuration } from './values';

/**
 * Where the CLI connects and how it authenticates, from flags first, then environment variables,
 * then the loopback defaults of `npm start`. The environment is a parameter (tests pass their own);
 * nothing else in the CLI reads `process.env`.
 */
export interface CliSettings {
  /** auth-broker's gRPC address. */
  authBroker: string;
  /** mailbox-fetch's gRPC address. */
  mailboxFetch: string;
  /** interaction-router's gRPC address (workload-manager API and agent desktop). */
  router: string;
  /**
   * TLS to the services, verified against `ca`, presenting `cert`/`key` to services that require a
   * client certificate (mTLS); undefined: plaintext (or the public roots for https:// addresses).
   */
  tls: { ca: Buffer; cert?: Buffer; key?: Buffer } | undefined;
  /** Workload-manager API key (bearer token); undefined when not configured. */
  apiKey: string | undefined;
  /** Print JSON instead of tables. */
  json: boolean;
  /** Deadline of each unary call, ms. */
  timeoutMs: number;
  /** Agent sign-in ("Sign in with Microsoft") for the desktop mode. */
  agent: {
    /** Authority host, e.g. https://login.microsoftonline.com or the graph sandbox. */
    authority: string;
    /** Entra directory (tenant) id or domain the agents belong to. */
    directory: string | undefined;
    /** Application (client) id of the agent desktop app registration (the router's ROUTER_AGENT_AUDIENCE). */
    clientId: string | undefined;
    /** A ready ID token (skips the sign-in). */
    token: string | undefined;
  };
}

/** The environment variables the CLI reads, with their defaults (documented in docs/cli.md). */
const settingsEnv = {
  authBroker: { name: 'MAILROUTE_AUTH_BROKER', default: '127.0.0.1:50051' },
  mailboxFetch: { name: 'MAILROUTE_MAILBOX_FETCH', default: '127.0.0.1:50052' },
  router: { name: 'MAILROUTE_ROUTER', default: '127.0.0.1:50053' },
  apiKey: { name: 'MAILROUTE_API_KEY' },
  tlsCaFile: { name: 'MAILROUTE_TLS_CA_FILE' },
  tlsCertFile: { name: 'MAILROUTE_TLS_CERT_FILE' },
  tlsKeyFile: { name: 'MAILROUTE_TLS_KEY_FILE' },
  timeout: { name: 'MAILROUTE_TIMEOUT', default: '30s' },
  agentAuthority: { name: 'MAILROUTE_AGENT_AUTHORITY', default: 'https://login.microsoftonline.com' },
  agentDirectory: { name: 'MAILROUTE_AGENT_DIRECTORY' },
  agentClientId: { name: 'MAILROUTE_AGENT_CLIENT_ID' },
  agentToken: { name: 'MAILROUTE_AGENT_TOKEN' },
} as const;

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** Resolves settings from parsed global options and the environment; UsageError naming the option or variable. */
export function resolveSettings(values: OptionValues, env: Readonly<Record<string, string | undefined>>): CliSettings {
  const pick = (option: string, variable: { name: string; default?: string }): { value: string | undefined; source: string } => {
    const flag = values[option];
    if (typeof flag === 'string' && flag.length > 0) return { value: flag, source: `--${option}` };
    const fromEnv = env[variable.name];
    if (fromEnv !== undefined && fromEnv.length > 0) return { value: fromEnv, source: variable.name };
    return { value: 'default' in variable ? variable.default : undefined, source: variable.name };
  };
  const address = (option: string, variable: { name: string; default: string }): string => {
    const { value, source } = pick(option, variable);
    const text = value ?? variable.default;
    if (!/^(https?:\/\/)?[A-Za-z0-9._\-[\]:]+:\d{1,5}$/.test(text)) {
      throw new UsageError(`${source}: "${text}" must be host:port (or https://host:port for TLS)`);
    }
    return text;
  };
  const timeout = pick('timeout', settingsEnv.timeout);
  const timeoutSeconds = durationSeconds(parseDuration(timeout.value ?? settingsEnv.timeout.default, timeout.source));
  if (timeoutSeconds < 1 || timeoutSeconds > 600) throw new UsageError(`${timeout.source}: must be between 1s and 10m`);
  const authority = pick('authority', settingsEnv.agentAuthority).value ?? settingsEnv.agentAuthority.default;
  if (!/^https:\/\/[^/\s]+\/?$/.test(authority))
    throw new UsageError(
      `--authority / ${settingsEnv.agentAuthority.name}: "${authority}" must be https://host[:port] without a path`,
    );
  const pem = (option: string, variable: { name: string }): Buffer | undefined => {
    const { value, source } = pick(option, variable);
    if (value === undefined) return undefined;
    try {
      return readFileSync(value);
    } catch {
      throw new UsageError(`${source === variable.name ? variable.name : `--${option}`}: cannot read the file "${value}"`);
    }
  };
  const ca = pem('ca-file', settingsEnv.tlsCaFile);
  const cert = pem('cert-file', settingsEnv.tlsCertFile);
  const key = pem('key-file', settingsEnv.tlsKeyFile);
  if (Boolean(cert) !== Boolean(key))
    throw new UsageError(
      `--cert-file / ${settingsEnv.tlsCertFile.name} and --key-file / ${settingsEnv.tlsKeyFile.name} go together`,
    );
  if (cert && !ca)
    throw new UsageError(
      `--ca-file / ${settingsEnv.tlsCaFile.name} is required with a client certificate (TLS is on only with a CA)`,
    );
  return {
    tls: ca ? { ca, ...(cert && key ? { cert, key } : {}) } : undefined,
    authBroker: address('auth-broker', settingsEnv.authBroker),
    mailboxFetch: address('mailbox-fetch', settingsEnv.mailboxFetch),
    router: address('router', settingsEnv.router),
    apiKey: pick('api-key', settingsEnv.apiKey).value,
    json: values['json'] === true,
    timeoutMs: Math.round(timeoutSeconds * 1000),
    agent: {
      authority: authority.replace(/\/$/, ''),
      directory: pick('directory', settingsEnv.agentDirectory).value,
      clientId: pick('client-id', settingsEnv.agentClientId).value,
      token: env[settingsEnv.agentToken.name] || undefined,
    },
  };
}
