import { context, propagation, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import { backoffDelayMs, endingSpans, isRetryable, sleep, type BackoffOptions, type Logger } from '@mailroute/platform';
import {
  deadLetterHeaders,
  deadLetterTopic,
  type DeliveredMessage,
  type MessageHandler,
  type OutgoingMessage,
  type SubscribeOptions,
} from './ports/event-bus.port';

const tracer = trace.getTracer('@mailroute/messaging');

/** Adds the active trace context (W3C `traceparent`/`tracestate`) to a message's headers. */
export function withTraceHeaders(message: OutgoingMessage, active: Context = context.active()): OutgoingMessage {
  const headers: Record<string, string> = { ...message.headers };
  propagation.inject(active, headers);
  return { ...message, headers };
}

/**
 * Publishes messages with a PRODUCER span each (`<topic> publish`), whose context the message
 * carries in its headers, so the consumer's span is its child. The parent of a message's span is the
 * trace context already in its headers (a caller that gives each message its own trace, e.g. one
 * per e-mail) or else the active context. No span is started without a parent (background
 * publishes do not start traces); the headers then carry the active context as before. `send`
 * publishes the traced messages; the spans end when it settles.
 */
export async function publishTraced(
  topic: string,
  messages: readonly OutgoingMessage[],
  send: (traced: OutgoingMessage[]) => Promise<void>,
): Promise<void> {
  const spans: ReturnType<typeof tracer.startSpan>[] = [];
  const traced = messages.map((message) => {
    const parent = message.headers?.['traceparent'] ? propagation.extract(context.active(), message.headers) : context.active();
    if (!trace.getSpan(parent)) return withTraceHeaders(message, parent);
    const span = tracer.startSpan(
      `${topic} publish`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'send',
          'messaging.destination.name': topic,
          'messaging.kafka.message.key': message.key,
        },
      },
      parent,
    );
    spans.push(span);
    return withTraceHeaders(message, trace.setSpan(parent, span));
  });
  await endingSpans(spans, () => send(traced));
}

export type DeliveryOutcome = 'handled' | 'dead-lettered' | 'aborted';

/** The redelivery defaults of a subscription (`SubscribeOptions`), the same for every bus. */
const defaultRedelivery = {
  /**
   * Three attempts before a non-retryable failure is dead-lettered: a handler that failed the same
   * way three times will fail again, and its partition should not wait on it.
   */
  maxAttempts: 3,
  /** 200 ms before the first redelivery: long enough for a brief hiccup (a store failover) to pass. */
  initialDelayMs: 200,
  /**
   * 30 s cap: a retryable failure (a dependency down) is redelivered without limit, and a partition
   * waiting on it checks twice a minute — soon enough once the dependency is back, cheap meanwhile.
   */
  maxDelayMs: 30_000,
} as const;

/** A subscription's redelivery settings with the defaults merged (`defaultRedelivery`). */
export function redeliveryOf(options: Pick<SubscribeOptions, 'maxAttempts' | 'retryBackoffMs'>): Redelivery {
  return {
    maxAttempts: options.maxAttempts ?? defaultRedelivery.maxAttempts,
    backoff: {
      initialDelayMs: options.retryBackoffMs ?? defaultRedelivery.initialDelayMs,
      maxDelayMs: defaultRedelivery.maxDelayMs,
    },
  };
}

export interface Redelivery {
  /** Attempts for a message failing with a non-retryable error before it is dead-lettered. */
  maxAttempts: number;
  /** The wait before each redelivery (the project's backoff). */
  backoff: BackoffOptions;
}

export interface DeliveryOptions extends Redelivery {
  handler: MessageHandler;
  signal: AbortSignal;
  deadLetter: (topic: string, message: OutgoingMessage) => Promise<void>;
  logger?: Logger | undefined;
}

/**
 * Runs the handler for one message until it succeeds (→ commit), fails `maxAttempts` times with a
 * non-retryable error (→ dead-letter, then commit), or the signal aborts (→ no commit, so the next
 * owner of the partition gets it again). Retryable errors (a dependency down) are retried without a
 * limit: the partition waits, in order, rather than losing or reordering mail. The handler runs in
 * the trace context carried by the message headers.
 */
export async function deliver(message: Omit<DeliveredMessage, 'attempt'>, options: DeliveryOptions): Promise<DeliveryOutcome> {
  const parent = propagation.extract(context.active(), message.headers);
  const aborted = new Promise<'aborted'>((resolve) => {
    if (options.signal.aborted) resolve('aborted');
    options.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  let failures = 0;
  for (let attempt = 1; ; attempt += 1) {
    if (options.signal.aborted) return 'aborted';
    const span = tracer.startSpan(
      `${message.topic} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.destination.name': message.topic,
          'messaging.kafka.message.key': message.key,
          'messaging.kafka.destination.partition': message.partition,
          'messaging.kafka.message.offset': message.offset,
        },
      },
      parent,
    );
    try {
      const run = context.with(trace.setSpan(parent, span), () => options.handler({ ...message, attempt }, options.signal));
      const result = await Promise.race([run.then(() => 'handled' as const), aborted]);
      if (result === 'aborted') {
        run.catch(() => undefined);
        return 'aborted';
      }
      return 'handled';
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      if (options.signal.aborted) return 'aborted';
      const retryable = isRetryable(error);
      if (!retryable) failures += 1;
      options.logger?.warn(
        { err: error, topic: message.topic, partition: message.partition, offset: message.offset, attempt, retryable },
        'bus: handler failed',
      );
      if (!retryable && failures >= options.maxAttempts) {
        await options.deadLetter(deadLetterTopic(message.topic), {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            [deadLetterHeaders.error]: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            [deadLetterHeaders.attempts]: String(attempt),
            [deadLetterHeaders.originalTopic]: message.topic,
            [deadLetterHeaders.originalPartition]: String(message.partition),
            [deadLetterHeaders.originalOffset]: message.offset,
          },
        });
        options.logger?.error(
          { topic: message.topic, partition: message.partition, offset: message.offset, attempts: attempt },
          'bus: message dead-lettered',
        );
        return 'dead-lettered';
      }
      await sleep(backoffDelayMs(attempt, options.backoff), options.signal);
    } finally {
      span.end();
    }
  }
}
