import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** OTLP span kinds (opentelemetry/proto/trace/v1/trace.proto, Span.SpanKind). */
export const OtlpSpanKind = { unspecified: 0, internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

/** A span as an OTLP/HTTP collector received it, with its process's `service.name`. */
export interface CollectedSpan {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string; attributes: Record<string, string | number | boolean> }[];
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
}

export interface OtlpCollector {
  /** Base endpoint for OTEL_EXPORTER_OTLP_ENDPOINT (spans are POSTed to `<endpoint>/v1/traces`). */
  endpoint: string;
  /** Every span received so far, in arrival order. */
  readonly spans: CollectedSpan[];
  /** Export requests received (any path), with their content type. */
  readonly requests: { path: string; contentType: string }[];
  close(): Promise<void>;
}

/**
 * A minimal OTLP/HTTP trace collector on 127.0.0.1: decodes the protobuf ExportTraceServiceRequest
 * bodies an OTLP exporter POSTs to /v1/traces (the fields a trace test needs) and answers 200.
 */
export async function startOtlpCollector(): Promise<OtlpCollector> {
  const spans: CollectedSpan[] = [];
  const requests: { path: string; contentType: string }[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ path: request.url ?? '', contentType: String(request.headers['content-type'] ?? '') });
      try {
        if (request.url === '/v1/traces' && String(request.headers['content-type']).startsWith('application/x-protobuf')) {
          spans.push(...decodeExportTraceServiceRequest(Buffer.concat(chunks)));
        }
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch (error) {
        response.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Field = { no: number; type: WireType; value: Uint8Array | bigint | number };

function fieldsOf(bytes: Uint8Array): Field[] {
  const reader = new BinaryReader(bytes);
  const fields: Field[] = [];
  while (reader.pos < reader.len) {
    const [no, type] = reader.tag();
    switch (type) {
      case WireType.Varint:
        fields.push({ no, type, value: BigInt(reader.uint64()) });
        break;
      case WireType.Bit64:
        fields.push({ no, type, value: BigInt(reader.fixed64()) });
        break;
      case WireType.Bit32:
        fields.push({ no, type, value: reader.fixed32() });
        break;
      case WireType.LengthDelimited:
        fields.push({ no, type, value: reader.bytes() });
        break;
      default:
        reader.skip(type, no);
    }
  }
  return fields;
}

const bytesOf = (fields: Field[], no: number): Uint8Array[] =>
  fields.filter((f) => f.no === no && f.value instanceof Uint8Array).map((f) => f.value as Uint8Array);
const stringOf = (fields: Field[], no: number): string => {
  const found = bytesOf(fields, no)[0];
  return found ? new TextDecoder().decode(found) : '';
};
const hexOf = (fields: Field[], no: number): string => Buffer.from(bytesOf(fields, no)[0] ?? new Uint8Array()).toString('hex');
const numberOf = (fields: Field[], no: number): bigint => {
  const found = fields.find((f) => f.no === no && typeof f.value !== 'object');
  return found ? BigInt(found.value as bigint | number) : 0n;
};

function anyValue(bytes: Uint8Array): string | number | boolean {
  const fields = fieldsOf(bytes);
  const first = fields[0];
  if (!first) return '';
  switch (first.no) {
    case 1:
      return new TextDecoder().decode(first.value as Uint8Array);
    case 2:
      return (first.value as bigint) !== 0n;
    case 3:
      return Number(BigInt.asIntN(64, first.value as bigint));
    case 4:
      return Buffer.from(new BigUint64Array([first.value as bigint]).buffer).readDoubleLE(0);
    default:
      return '';
  }
}

function attributesOf(fields: Field[], no: number): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {};
  for (const kv of bytesOf(fields, no)) {
    const pair = fieldsOf(kv);
    const value = bytesOf(pair, 2)[0];
    attributes[stringOf(pair, 1)] = value ? anyValue(value) : '';
  }
  return attributes;
}

/** Decodes an opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest. */
function decodeExportTraceServiceRequest(body: Uint8Array): CollectedSpan[] {
  const spans: CollectedSpan[] = [];
  for (const resourceSpans of bytesOf(fieldsOf(body), 1)) {
    const rs = fieldsOf(resourceSpans);
    const resource = bytesOf(rs, 1)[0];
    const service = String(resource ? (attributesOf(fieldsOf(resource), 1)['service.name'] ?? '') : '');
    for (const scopeSpans of bytesOf(rs, 2)) {
      const ss = fieldsOf(scopeSpans);
      const scopeBytes = bytesOf(ss, 1)[0];
      const scope = scopeBytes ? stringOf(fieldsOf(scopeBytes), 1) : '';
      for (const spanBytes of bytesOf(ss, 2)) {
        const span = fieldsOf(spanBytes);
        const status = bytesOf(span, 15)[0];
        spans.push({
          service,
          scope,
          traceId: hexOf(span, 1),
          spanId: hexOf(span, 2),
          parentSpanId: hexOf(span, 4),
          name: stringOf(span, 5),
          kind: Number(numberOf(span, 6)),
          startNs: numberOf(span, 7),
          endNs: numberOf(span, 8),
          attributes: attributesOf(span, 9),
          links: bytesOf(span, 13).map((linkBytes) => {
            const link = fieldsOf(linkBytes);
            return { traceId: hexOf(link, 1), spanId: hexOf(link, 2), attributes: attributesOf(link, 4) };
          }),
          statusCode: status ? Number(numberOf(fieldsOf(status), 3)) : 0,
        });
      }
    }
  }
  return spans;
}
