import { accessSync, constants, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError } from './errors';

/** A config schema: an object whose keys are environment variable names. */
export type ConfigSchema = z.ZodObject<z.ZodRawShape>;

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses `env` against `schema` once. Every problem is collected and reported together in a
 * ConfigError naming each variable; values are never echoed (they may be secrets). Empty strings
 * count as unset, so `FOO=` in a manifest falls back to the default instead of failing oddly.
 */
export function loadConfig<S extends ConfigSchema>(schema: S, env: Env = process.env): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value.trim();
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    variable: String(issue.path[0] ?? '(config)'),
    problem:
      issue.code === 'custom' && (issue.params as { crossVariable?: boolean } | undefined)?.crossVariable
        ? issue.message
        : issue.path[0] !== undefined && input[String(issue.path[0])] === undefined && issue.code === 'invalid_type'
          ? 'is required but not set'
          : `is invalid: ${issue.message}`,
  }));
  throw new ConfigError(problems);
}

/**
 * Reports a rule across variables from a schema's `superRefine`, naming `variable` with `problem`
 * (e.g. "is required when X_STORE=mongodb"); loadConfig turns it into a ConfigError like any other.
 */
export function addConfigProblem(context: z.RefinementCtx, variable: string, problem: string): void {
  context.addIssue({ code: 'custom', path: [variable], message: problem, params: { crossVariable: true } });
}

/**
 * A service's whole schema: its own variables (which win, e.g. its GRPC_PORT default), the common
 * ones of {@link serviceConfigSchema}, and its own rules across variables (`superRefine`), which an
 * `.extend()` of the common schema would drop. runService and the all-in-one host both use it.
 */
export function serviceSchema<S extends ConfigSchema>(own: S) {
  const common = Object.fromEntries(Object.entries(serviceConfigSchema.shape).filter(([name]) => !(name in own.shape)));
  return own
    .safeExtend(common)
    .superRefine((config, context) => checkCommonRules(config as unknown as ServiceConfig, context)) as unknown as z.ZodObject<
    S['shape'] & Omit<typeof serviceConfigSchema.shape, keyof S['shape']>
  >;
}

/** Schema helpers for environment variables (strings in, typed values out). */
export const env = {
  port: (defaultPort?: number) => {
    const schema = z.coerce.number().int().min(0).max(65535);
    return defaultPort === undefined ? schema : schema.default(defaultPort);
  },
  int: (options: { min?: number; max?: number; default?: number } = {}) => {
    let schema = z.coerce.number().int();
    if (options.min !== undefined) schema = schema.min(options.min);
    if (options.max !== undefined) schema = schema.max(options.max);
    return options.default === undefined ? schema : schema.default(options.default);
  },
  bool: (defaultValue: boolean) => z.stringbool().default(defaultValue),
  url: () => z.url(),
  list: () =>
    z.string().transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    ),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  string: () => z.string().min(1),
  /**
   * A variable in a format of our own, parsed by `parse` (which throws with a message naming what is
   * wrong, never echoing the value): e.g. API keys, service tokens, key rings.
   */
  /** Kafka bootstrap brokers, `host:port[,host:port…]`. */
  brokers: () =>
    z.string().transform((text, context): string[] => {
      const brokers = text
        .split(',')
        .map((broker) => broker.trim())
        .filter(Boolean);
      const bad = brokers.findIndex(
        (broker) =>
          !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(broker) ||
          Number(broker.slice(broker.lastIndexOf(':') + 1)) > 65_535,
      );
      if (brokers.length === 0 || bad !== -1) {
        context.addIssue({
          code: 'custom',
          message: brokers.length === 0 ? 'must name at least one broker' : `entry ${bad + 1} must be "host:port"`,
        });
        return z.NEVER;
      }
      return brokers;
    }),
  parsed: <T>(parse: (text: string) => T) =>
    z.string().transform((text, context): T => {
      try {
        return parse(text);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
};

/** Variables every mailroute service reads. Merge into a service's own schema with `.extend()`. */
export const serviceConfigSchema = z.object({
  /** Interface the gRPC server binds. Loopback by default: plaintext is for loopback only. */
  GRPC_HOST: z.string().default('127.0.0.1'),
  /** gRPC port; 0 picks a free one (tests). */
  GRPC_PORT: env.port(),
  LOG_LEVEL: env.logLevel(),
  /** OTLP/HTTP endpoint for traces (e.g. http://otel-collector:4318); unset means no export. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Time given to in-flight calls and consumers to finish on SIGTERM before they are cut. */
  SHUTDOWN_GRACE_MS: env.int({ min: 0, max: 120_000, default: 10_000 }),
  /** Deadline applied to unary calls that arrive without one. */
  GRPC_DEFAULT_DEADLINE_MS: env.int({ min: 100, max: 600_000, default: 30_000 }),
  /**
   * A second, plaintext port on GRPC_HOST that serves grpc.health.v1 and nothing else, for probes that
   * cannot speak TLS (Kubernetes' gRPC probes). Unset: none; the health service is on GRPC_PORT anyway.
   */
  GRPC_HEALTH_PORT: env.port().optional(),
  /** PEM certificate (chain) the gRPC server presents, and the client certificate for calls to other services; TLS is on when set. */
  GRPC_TLS_CERT_FILE: z.string().optional(),
  /** PEM private key of GRPC_TLS_CERT_FILE. */
  GRPC_TLS_KEY_FILE: z.string().optional(),
  /** The internal CA (PEM): clients verify the services against it; the server checks client certificates with it. */
  GRPC_TLS_CA_FILE: z.string().optional(),
  /** Refuse gRPC clients without a certificate from GRPC_TLS_CA_FILE (mTLS). Default false. */
  GRPC_TLS_REQUIRE_CLIENT_CERT: env.bool(false),
  /** How often the certificate, key and CA files are read again (cert-manager rotation without a restart). Default 60 s. */
  GRPC_TLS_RELOAD_INTERVAL_MS: env.int({ min: 100, max: 3_600_000, default: 60_000 }),
  /**
   * Plaintext gRPC on an interface that is not loopback: only when a service mesh's sidecar provides
   * mTLS, or in a development cluster. Default false: without GRPC_TLS_CERT_FILE, GRPC_HOST must be loopback.
   */
  GRPC_ALLOW_PLAINTEXT: env.bool(false),
  /**
   * Read by Node itself when the process starts: PEM CA certificates trusted for every outbound TLS
   * connection besides the built-in roots (MongoDB, Kafka, Graph and Entra through a TLS-inspecting
   * proxy, OTLP). Checked here so a wrong path stops the service instead of a warning.
   */
  NODE_EXTRA_CA_CERTS: z.string().optional(),
  /** Kafka over TLS (an SSL or SASL_SSL listener). Default false. Services without Kafka ignore the KAFKA_* variables. */
  KAFKA_TLS: env.bool(false),
  /** PEM CA bundle the brokers' certificates are checked against; unset: Node's roots and NODE_EXTRA_CA_CERTS. */
  KAFKA_TLS_CA_FILE: z.string().optional(),
  /** PEM client certificate (chain) for brokers that require one (mTLS); with KAFKA_TLS_KEY_FILE. */
  KAFKA_TLS_CERT_FILE: z.string().optional(),
  /** PEM private key of KAFKA_TLS_CERT_FILE. */
  KAFKA_TLS_KEY_FILE: z.string().optional(),
  /** The name the brokers' certificates must carry, when it is not the host in the broker address. */
  KAFKA_TLS_SERVER_NAME: z.string().optional(),
  /** SASL mechanism: plain, scram-sha-256, scram-sha-512 or oauthbearer; unset: no SASL. */
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']).optional(),
  /** SASL user name (plain, scram-*); `$ConnectionString` for Azure Event Hubs. */
  KAFKA_SASL_USERNAME: z.string().optional(),
  /** SASL password (plain, scram-*), from a Secret; or KAFKA_SASL_PASSWORD_FILE. */
  KAFKA_SASL_PASSWORD: z.string().optional(),
  /** A file holding the SASL password (a mounted Secret); read at start. */
  KAFKA_SASL_PASSWORD_FILE: z.string().optional(),
  /** oauthbearer: a file holding the current token, read again at every authentication (a sidecar or projected token refreshes it). */
  KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: z.string().optional(),
  /** oauthbearer: an OAuth 2.0 token endpoint for the client-credentials grant (e.g. Entra ID's /oauth2/v2.0/token). */
  KAFKA_SASL_OAUTHBEARER_TOKEN_URL: z.url().optional(),
  /** oauthbearer with a token endpoint: the client id. */
  KAFKA_SASL_OAUTHBEARER_CLIENT_ID: z.string().optional(),
  /** oauthbearer with a token endpoint: a file holding the client secret. */
  KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE: z.string().optional(),
  /** oauthbearer with a token endpoint: the scope asked for (Event Hubs: `https://<namespace>.servicebus.windows.net/.default`). */
  KAFKA_SASL_OAUTHBEARER_SCOPE: z.string().optional(),
});

/**
 * The GRPC_TLS_* variables of a program that only calls the services (the web gateway): the CA it
 * verifies them against and the client certificate it presents to services that require one.
 * Spread into its schema and check with checkGrpcClientTlsRules.
 */
export const grpcClientTlsSchema = serviceConfigSchema.pick({
  GRPC_TLS_CERT_FILE: true,
  GRPC_TLS_KEY_FILE: true,
  GRPC_TLS_CA_FILE: true,
  GRPC_TLS_RELOAD_INTERVAL_MS: true,
});

/** The rules of grpcClientTlsSchema: certificate and key together, readable files, a certificate only with a CA (TLS). */
export function checkGrpcClientTlsRules(config: z.infer<typeof grpcClientTlsSchema>, context: z.RefinementCtx): void {
  const problem = (variable: string, text: string) => addConfigProblem(context, variable, text);
  if (Boolean(config.GRPC_TLS_CERT_FILE) !== Boolean(config.GRPC_TLS_KEY_FILE)) {
    problem(
      config.GRPC_TLS_CERT_FILE ? 'GRPC_TLS_KEY_FILE' : 'GRPC_TLS_CERT_FILE',
      'is required with the other of GRPC_TLS_CERT_FILE/GRPC_TLS_KEY_FILE',
    );
  }
  if (config.GRPC_TLS_CERT_FILE && !config.GRPC_TLS_CA_FILE) {
    problem('GRPC_TLS_CA_FILE', 'is required with GRPC_TLS_CERT_FILE (the services are called over TLS only when it is set)');
  }
  for (const name of ['GRPC_TLS_CERT_FILE', 'GRPC_TLS_KEY_FILE', 'GRPC_TLS_CA_FILE'] as const) {
    const file = config[name];
    if (file && !isReadableFile(file)) problem(name, 'names a file that cannot be read');
  }
}

/** The rules across the common variables; each problem names the variable that fixes it. */
function checkCommonRules(config: ServiceConfig, context: z.RefinementCtx): void {
  const problem = (variable: string, text: string) => addConfigProblem(context, variable, text);
  checkGrpcTlsRules(config, problem);
  if (config.NODE_EXTRA_CA_CERTS && !isReadableFile(config.NODE_EXTRA_CA_CERTS)) {
    problem('NODE_EXTRA_CA_CERTS', 'names a file that cannot be read');
  }
  if (!config.KAFKA_TLS) {
    for (const name of ['KAFKA_TLS_CA_FILE', 'KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_KEY_FILE', 'KAFKA_TLS_SERVER_NAME'] as const) {
      if (config[name]) problem(name, 'is set but KAFKA_TLS is not true');
    }
  }
  if (Boolean(config.KAFKA_TLS_CERT_FILE) !== Boolean(config.KAFKA_TLS_KEY_FILE)) {
    problem(
      config.KAFKA_TLS_CERT_FILE ? 'KAFKA_TLS_KEY_FILE' : 'KAFKA_TLS_CERT_FILE',
      'is required with the other of KAFKA_TLS_CERT_FILE/KAFKA_TLS_KEY_FILE',
    );
  }
  for (const name of [
    'KAFKA_TLS_CA_FILE',
    'KAFKA_TLS_CERT_FILE',
    'KAFKA_TLS_KEY_FILE',
    'KAFKA_SASL_PASSWORD_FILE',
    'KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE',
  ] as const) {
    const file = config[name];
    if (file && !isReadableFile(file)) problem(name, 'names a file that cannot be read');
  }
  const mechanism = config.KAFKA_SASL_MECHANISM;
  const saslOnly = [
    'KAFKA_SASL_USERNAME',
    'KAFKA_SASL_PASSWORD',
    'KAFKA_SASL_PASSWORD_FILE',
    'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE',
    'KAFKA_SASL_OAUTHBEARER_TOKEN_URL',
    'KAFKA_SASL_OAUTHBEARER_CLIENT_ID',
    'KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE',
    'KAFKA_SASL_OAUTHBEARER_SCOPE',
  ] as const;
  if (!mechanism) {
    for (const name of saslOnly) if (config[name]) problem(name, 'is set but KAFKA_SASL_MECHANISM is not');
    return;
  }
  if (mechanism === 'oauthbearer') {
    const byFile = Boolean(config.KAFKA_SASL_OAUTHBEARER_TOKEN_FILE);
    const byEndpoint = Boolean(config.KAFKA_SASL_OAUTHBEARER_TOKEN_URL);
    if (byFile === byEndpoint) {
      problem(
        'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE',
        'or KAFKA_SASL_OAUTHBEARER_TOKEN_URL (exactly one) is required when KAFKA_SASL_MECHANISM=oauthbearer',
      );
    }
    if (byEndpoint) {
      for (const name of ['KAFKA_SASL_OAUTHBEARER_CLIENT_ID', 'KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE'] as const) {
        if (!config[name]) problem(name, 'is required with KAFKA_SASL_OAUTHBEARER_TOKEN_URL');
      }
    }
    return;
  }
  if (!config.KAFKA_SASL_USERNAME) problem('KAFKA_SASL_USERNAME', `is required when KAFKA_SASL_MECHANISM=${mechanism}`);
  if (Boolean(config.KAFKA_SASL_PASSWORD) === Boolean(config.KAFKA_SASL_PASSWORD_FILE)) {
    problem(
      'KAFKA_SASL_PASSWORD_FILE',
      `or KAFKA_SASL_PASSWORD (exactly one) is required when KAFKA_SASL_MECHANISM=${mechanism}`,
    );
  }
}

/** TLS between services: plaintext only on loopback (ARCHITECTURE.md, security model) or when explicitly allowed. */
function checkGrpcTlsRules(config: ServiceConfig, problem: (variable: string, text: string) => void): void {
  if (Boolean(config.GRPC_TLS_CERT_FILE) !== Boolean(config.GRPC_TLS_KEY_FILE)) {
    problem(
      config.GRPC_TLS_CERT_FILE ? 'GRPC_TLS_KEY_FILE' : 'GRPC_TLS_CERT_FILE',
      'is required with the other of GRPC_TLS_CERT_FILE/GRPC_TLS_KEY_FILE',
    );
  }
  for (const name of ['GRPC_TLS_CERT_FILE', 'GRPC_TLS_KEY_FILE', 'GRPC_TLS_CA_FILE'] as const) {
    const file = config[name];
    if (file && !isReadableFile(file)) problem(name, 'names a file that cannot be read');
  }
  if (config.GRPC_TLS_REQUIRE_CLIENT_CERT) {
    if (!config.GRPC_TLS_CA_FILE) problem('GRPC_TLS_CA_FILE', 'is required when GRPC_TLS_REQUIRE_CLIENT_CERT=true');
    if (!config.GRPC_TLS_CERT_FILE) problem('GRPC_TLS_CERT_FILE', 'is required when GRPC_TLS_REQUIRE_CLIENT_CERT=true');
  }
  if (!config.GRPC_TLS_CERT_FILE && !config.GRPC_ALLOW_PLAINTEXT && !isLoopbackHost(config.GRPC_HOST)) {
    problem(
      'GRPC_TLS_CERT_FILE',
      'is required when GRPC_HOST is not a loopback address (plaintext gRPC only on loopback, or with GRPC_ALLOW_PLAINTEXT=true behind a mesh)',
    );
  }
}

/** Whether `host` is a loopback interface: the only place plaintext gRPC is allowed without a mesh. */
function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

function isReadableFile(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;
