import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

export interface MetricsOptions {
  /** Instrumentation scope of the meter, e.g. the service name. */
  serviceName: string;
  /**
   * Port of the Prometheus scrape endpoint (`GET /metrics`); 0 picks a free one (tests). Unset: no
   * endpoint, the meter still works (instruments are cheap no-ops for nobody).
   */
  port?: number | undefined;
  /** Interface of the scrape endpoint. Default 127.0.0.1. */
  host?: string;
}

export interface Metrics {
  meter: Meter;
  /** The bound scrape port, when serving. */
  port: number | undefined;
  /** Stops the endpoint and the meter provider. */
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry metrics exported for Prometheus: a MeterProvider whose reader is a
 * PrometheusExporter served on our own HTTP listener, so the bound port is known (port 0 in
 * tests) and shutdown is ordered.
 */
export async function startMetrics(options: MetricsOptions): Promise<Metrics> {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const meter = provider.getMeter(options.serviceName);
  let server: Server | undefined;
  let port: number | undefined;
  if (options.port !== undefined) {
    server = createServer((request, response) => {
      if (request.method === 'GET' && (request.url ?? '').split('?')[0] === '/metrics') {
        exporter.getMetricsRequestHandler(request, response);
        return;
      }
      response.statusCode = 404;
      response.end('not found; metrics are at /metrics\n');
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
    });
    port = (listening.address() as AddressInfo).port;
  }
  return {
    meter,
    port,
    async shutdown() {
      if (server) {
        const closing = server;
        await new Promise<void>((resolve) => closing.close(() => resolve()));
        closing.closeAllConnections();
      }
      await provider.shutdown();
    },
  };
}
