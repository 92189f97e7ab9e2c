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
  return own.safeExtend(common) as unknown as z.ZodObject<S['shape'] & Omit<typeof serviceConfigSchema.shape, keyof S['shape']>>;
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
});

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;
