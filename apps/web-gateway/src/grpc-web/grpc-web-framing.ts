import type { Metadata } from '@grpc/grpc-js';

/**
 * The gRPC-web wire format (binary mode, `application/grpc-web+proto`), as the protocol's
 * PROTOCOL-WEB.md defines it: every message is a frame of a flag byte (0x00 data, 0x80 trailers;
 * bit 0x01 = compressed, which we never send and refuse to receive), a 4-byte big-endian length and
 * the payload; the trailers are one last frame whose payload is HTTP/1-style `name:value\r\n` lines.
 */
export const grpcWebContentType = 'application/grpc-web+proto';
const dataFlag = 0x00;
const trailerFlag = 0x80;
const compressedFlag = 0x01;
const headerBytes = 5;

/** One frame around an encoded message. */
export function toDataFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(headerBytes + message.length);
  frame.writeUInt8(dataFlag, 0);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, headerBytes);
  return frame;
}

/** The closing trailer frame: grpc-status, grpc-message (percent-encoded) and the upstream's trailing metadata. */
export function toTrailerFrame(code: number, message: string, trailers: Metadata | undefined): Buffer {
  const lines = [`grpc-status:${code}`, ...(message ? [`grpc-message:${encodeGrpcMessage(message)}`] : [])];
  for (const [name, value] of metadataEntries(trailers)) lines.push(`${name}:${value}`);
  const payload = Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1');
  const frame = Buffer.allocUnsafe(headerBytes + payload.length);
  frame.writeUInt8(trailerFlag, 0);
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, headerBytes);
  return frame;
}

/** Why a request body is not one uncompressed gRPC-web message. */
export class GrpcWebFramingError extends Error {
  override readonly name = 'GrpcWebFramingError';
}

/**
 * The one message of a unary or server-streaming request: exactly one uncompressed data frame
 * (browsers cannot stream a request body, so there is never a second one).
 */
export function readSingleMessage(body: Buffer): Buffer {
  if (body.length < headerBytes) throw new GrpcWebFramingError('the request body is not a gRPC-web frame');
  const flag = body.readUInt8(0);
  if (flag & compressedFlag) throw new GrpcWebFramingError('compressed gRPC-web messages are not supported');
  if (flag !== dataFlag) throw new GrpcWebFramingError('the request body does not start with a data frame');
  const length = body.readUInt32BE(1);
  if (headerBytes + length !== body.length)
    throw new GrpcWebFramingError('the request body must be exactly one gRPC-web message');
  return body.subarray(headerBytes);
}

/**
 * grpc-message is percent-encoded UTF-8 (gRPC's HTTP/2 protocol): every byte outside printable
 * ASCII, and `%` itself, becomes `%XX`.
 */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Header names HTTP and the gRPC transport own; never copied from an upstream's metadata. */
const reservedNames = new Set([
  'content-type',
  'content-length',
  'te',
  'trailer',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'host',
  'user-agent',
  'grpc-status',
  'grpc-message',
  'grpc-encoding',
  'grpc-accept-encoding',
  'grpc-timeout',
]);

/** The upstream's metadata as header lines: binary (`-bin`) values base64, as gRPC-web clients expect. */
export function metadataEntries(metadata: Metadata | undefined): [string, string][] {
  if (!metadata) return [];
  const entries: [string, string][] = [];
  for (const [name, value] of Object.entries(metadata.getMap())) {
    if (reservedNames.has(name) || name.startsWith(':')) continue;
    entries.push([name, Buffer.isBuffer(value) ? value.toString('base64') : String(value).replace(/[\r\n]/g, ' ')]);
  }
  return entries;
}

/**
 * A gRPC-web `grpc-timeout` header (`<1-8 digits><H|M|S|m|u|n>`) in milliseconds; undefined when
 * absent or malformed (the upstream's default deadline applies then).
 */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  const match = /^(\d{1,8})([HMSmun])$/.exec(value ?? '');
  if (!match) return undefined;
  const amount = Number(match[1]);
  const perUnit: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };
  return amount * (perUnit[match[2] ?? 'S'] ?? 1_000);
}
