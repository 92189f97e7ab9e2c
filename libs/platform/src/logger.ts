import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';
import { redact, redactString } from './redact';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerOptions {
  /** The service or component name, logged as `service`. */
  name: string;
  level?: LogLevel;
  /** Where JSON lines go; stdout by default. Tests pass a stream to read them. */
  destination?: pino.DestinationStream;
}

/**
 * `trace_id` and `span_id` of the OpenTelemetry span active where a line is logged (none outside a
 * span), so a log line leads to its trace. Read through the global context manager that
 * `startTelemetry` / `registerTracePropagation` install; a no-op before that.
 */
function traceFields(): { trace_id: string; span_id: string } | Record<string, never> {
  const span = trace.getSpan(context.active());
  const spanContext = span?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * A JSON logger whose every line passes through `redact`: secrets under secret-named keys and
 * secret-looking substrings (JWTs, bearer tokens, PEM blocks, `client_secret=` pairs) never reach the
 * output, whatever a caller passes. Errors are logged under `err`. A line logged inside an
 * OpenTelemetry span carries its `trace_id` and `span_id` (see `traceFields`).
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      mixin: traceFields,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
      },
      serializers: { err: (error: unknown) => redact(error) },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((arg) => (typeof arg === 'string' ? redactString(arg) : arg));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
