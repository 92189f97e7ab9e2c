import type { GraphThrottleEvent } from '@mailroute/graph-mail';
import type { Meter } from '@opentelemetry/api';
import type { SendEngineEvents } from '../send/send-engine';

/** The send engine's events plus Graph's throttling answers. */
export interface OutboundSendMetrics extends SendEngineEvents {
  onThrottled(event: GraphThrottleEvent): void;
}

/**
 * Prometheus metrics: attempts by outcome (sent, failed, retry, found-in-sent-items — an ambiguous
 * attempt resolved without sending twice — and check-failed — the check of an unknown outcome could
 * not tell), final states (sent, failed, outcome-unknown) with request-to-final
 * latency, and Graph throttling answers (429, 503 with Retry-After) by tenant and mailbox address
 * with the waits asked for. Sends carry no per-mailbox labels; per-send detail is in GetSendStatus.
 */
export function createOutboundSendMetrics(meter: Meter): OutboundSendMetrics {
  const attempts = meter.createCounter('mailroute_outbound_send_attempts_total', { description: 'Send attempts by outcome' });
  const finals = meter.createCounter('mailroute_outbound_send_sends_total', {
    description: 'Sends that reached a final state, by state',
  });
  const latency = meter.createHistogram('mailroute_outbound_send_latency_seconds', {
    description: 'Request recorded to final state',
    unit: 's',
  });
  const throttled = meter.createCounter('mailroute_outbound_send_graph_throttled_total', {
    description: 'Graph throttling answers (429, or 503 with Retry-After) to outbound-send, by mailbox address',
  });
  const throttledWait = meter.createCounter('mailroute_outbound_send_graph_throttled_wait_seconds_total', {
    description: 'Sum of the Retry-After waits Graph asked outbound-send for, in seconds',
  });
  return {
    onAttempt: (outcome) => attempts.add(1, { outcome }),
    onFinal: (state, latencyMs) => {
      finals.add(1, { state });
      latency.record(Math.max(0, latencyMs) / 1000, { state });
    },
    onThrottled(event) {
      const labels = { tenant: event.target.tenantId, address: event.target.address.toLowerCase(), status: String(event.status) };
      throttled.add(1, labels);
      throttledWait.add(Math.max(0, event.retryAfterMs) / 1000, labels);
    },
  };
}
