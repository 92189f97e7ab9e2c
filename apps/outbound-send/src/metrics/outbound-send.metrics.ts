import type { Meter } from '@opentelemetry/api';
import type { SendEngineEvents } from '../send/send-engine';

/**
 * Prometheus metrics: attempts by outcome (sent, failed, retry, found-in-sent-items — the last is
 * an ambiguous attempt resolved without sending twice) and final states with request-to-final
 * latency. No per-mailbox labels; per-send detail is in GetSendStatus.
 */
export function createOutboundSendMetrics(meter: Meter): SendEngineEvents {
  const attempts = meter.createCounter('mailroute_outbound_send_attempts_total', { description: 'Send attempts by outcome' });
  const finals = meter.createCounter('mailroute_outbound_send_sends_total', { description: 'Sends that reached a final state, by state' });
  const latency = meter.createHistogram('mailroute_outbound_send_latency_seconds', { description: 'Request recorded to final state', unit: 's' });
  return {
    onAttempt: (outcome) => attempts.add(1, { outcome }),
    onFinal: (state, latencyMs) => {
      finals.add(1, { state });
      latency.record(Math.max(0, latencyMs) / 1000, { state });
    },
  };
}
