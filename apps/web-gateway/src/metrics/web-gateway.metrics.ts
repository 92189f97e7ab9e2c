import type { Meter } from '@opentelemetry/api';

/** What the gateway counts; one implementation over OpenTelemetry, exported for Prometheus. */
export interface WebGatewayMetrics {
  /** A bridged call ended (any status; CANCELLED when the browser went away). */
  onCall(labels: { service: string; method: string; code: number }, seconds: number): void;
  onStreamOpened(): void;
  onStreamClosed(): void;
  /** An upload ended; `bytes` is what reached the upstream. */
  onUpload(outcome: 'ok' | 'refused' | 'failed' | 'cancelled' | 'timed_out', bytes: number): void;
}

/**
 * Prometheus metrics: bridged calls by service, method and gRPC status code with their duration
 * (for server streams: how long the stream was open), the open desktop streams, and uploads by
 * outcome with their bytes. No label carries anything a browser sent (the method label is the
 * route's own name, "unknown" for an unknown path).
 */
export function createWebGatewayMetrics(meter: Meter): WebGatewayMetrics {
  const calls = meter.createCounter('mailroute_web_gateway_calls_total', {
    description: 'gRPC-web calls by service, method and status code',
  });
  const duration = meter.createHistogram('mailroute_web_gateway_call_duration_seconds', {
    description: 'gRPC-web call duration (server streams: open time)',
    unit: 's',
  });
  const streams = meter.createUpDownCounter('mailroute_web_gateway_open_streams', {
    description: 'Open server streams (desktops)',
  });
  const uploads = meter.createCounter('mailroute_web_gateway_uploads_total', {
    description: 'Reply-attachment uploads by outcome',
  });
  const uploadBytes = meter.createCounter('mailroute_web_gateway_upload_bytes_total', {
    description: 'Bytes of reply-attachment uploads forwarded to the router',
    unit: 'By',
  });
  return {
    onCall(labels, seconds) {
      const attributes = { service: labels.service, method: labels.method, code: String(labels.code) };
      calls.add(1, attributes);
      duration.record(seconds, attributes);
    },
    onStreamOpened: () => streams.add(1),
    onStreamClosed: () => streams.add(-1),
    onUpload(outcome, bytes) {
      uploads.add(1, { outcome });
      uploadBytes.add(bytes, { outcome });
    },
  };
}
