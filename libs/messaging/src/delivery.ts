import { context, propagation, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import { endingSpans, isRetryable, sleep, type Logger } from '@mailroute/platform';
import {
  deadLetterHeaders,
  deadLetterTopic,
  type DeliveredMessage,
  type MessageHandler,
  type OutgoingMessage,
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

export interface DeliveryOptions {
  handler: MessageHandler;
  maxAttempts: number;
  retryBackoffMs: number;
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
      await sleep(Math.min(30_000, options.retryBackoffMs * 2 ** Math.min(attempt - 1, 10)), options.signal);
    } finally {
      span.end();
    }
  }
}
