import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';

export interface TelemetryOptions {
  serviceName: string;
  /**
   * OTLP/HTTP base endpoint (e.g. http://otel-collector:4318); spans go to `<endpoint>/v1/traces` as
   * protobuf, the OTLP default every collector accepts. Unset: nothing is exported.
   */
  otlpEndpoint?: string | undefined;
}

export interface Telemetry {
  /** True when spans are exported. */
  readonly exporting: boolean;
  /** Flushes pending spans and stops the SDK; the last step of shutdown. */
  shutdown(): Promise<void>;
}

let propagationRegistered = false;

/**
 * Registers W3C trace-context propagation and an AsyncLocalStorage context manager, so that a trace
 * passes from incoming gRPC metadata to outgoing calls and Kafka headers even when nothing is
 * exported. Idempotent.
 */
export function registerTracePropagation(): void {
  if (propagationRegistered) return;
  const manager = new AsyncLocalStorageContextManager();
  manager.enable();
  context.setGlobalContextManager(manager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  propagationRegistered = true;
}

/**
 * Starts OpenTelemetry first thing in a service's main. With an OTLP endpoint it runs the Node SDK
 * exporting traces over OTLP/HTTP (protobuf); without one it only registers propagation, so the process makes
 * no connection anywhere.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (!options.otlpEndpoint) {
    registerTracePropagation();
    return { exporting: false, shutdown: async () => undefined };
  }
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    traceExporter: new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }),
    textMapPropagator: new W3CTraceContextPropagator(),
    contextManager: new AsyncLocalStorageContextManager(),
    instrumentations: [],
  });
  sdk.start();
  propagationRegistered = true;
  return { exporting: true, shutdown: () => sdk.shutdown() };
}
