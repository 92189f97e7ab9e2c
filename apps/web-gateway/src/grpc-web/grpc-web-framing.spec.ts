import { Metadata } from '@grpc/grpc-js';
import {
  encodeGrpcMessage,
  GrpcWebFramingError,
  parseGrpcTimeout,
  readSingleMessage,
  toDataFrame,
  toTrailerFrame,
} from './grpc-web-framing';

describe('gRPC-web framing', () => {
  it('frames a message with a data flag and its big-endian length, and reads it back', () => {
    const frame = toDataFrame(Buffer.from('hello'));
    expect([...frame.subarray(0, 5)]).toEqual([0, 0, 0, 0, 5]);
    expect(readSingleMessage(frame).toString()).toBe('hello');
  });

  it('refuses a body that is not exactly one uncompressed data frame', () => {
    const one = toDataFrame(Buffer.from('a'));
    expect(() => readSingleMessage(Buffer.alloc(3))).toThrow(GrpcWebFramingError);
    expect(() => readSingleMessage(Buffer.concat([one, one]))).toThrow('exactly one gRPC-web message');
    expect(() => readSingleMessage(one.subarray(0, 5))).toThrow('exactly one gRPC-web message');
    const compressed = Buffer.from(one);
    compressed[0] = 1;
    expect(() => readSingleMessage(compressed)).toThrow('compressed');
    const trailer = Buffer.from(one);
    trailer[0] = 0x80;
    expect(() => readSingleMessage(trailer)).toThrow('data frame');
  });

  it('closes with a trailer frame of status, percent-encoded message and the trailing metadata (binary values base64)', () => {
    const metadata = new Metadata();
    metadata.set('mailroute-error-code', 'MAILBOX_NOT_FOUND');
    metadata.set('details-bin', Buffer.from([1, 2, 3]));
    metadata.set('grpc-status', '0');
    const frame = toTrailerFrame(5, 'no mailbox «support»\r\nX-Injected: 1', metadata);
    expect(frame[0]).toBe(0x80);
    expect(frame.readUInt32BE(1)).toBe(frame.length - 5);
    expect(frame.subarray(5).toString('latin1').split('\r\n')).toEqual([
      'grpc-status:5',
      'grpc-message:no mailbox %C2%ABsupport%C2%BB%0D%0AX-Injected: 1',
      'mailroute-error-code:MAILBOX_NOT_FOUND',
      'details-bin:AQID',
      '',
    ]);
  });

  it('percent-encodes exactly the bytes outside printable ASCII and the percent sign', () => {
    expect(encodeGrpcMessage('100% ok ~')).toBe('100%25 ok ~');
    expect(encodeGrpcMessage('é')).toBe('%C3%A9');
  });

  it('reads grpc-timeout in every unit, and nothing from a malformed one', () => {
    expect(parseGrpcTimeout('2S')).toBe(2_000);
    expect(parseGrpcTimeout('1H')).toBe(3_600_000);
    expect(parseGrpcTimeout('1500m')).toBe(1_500);
    expect(parseGrpcTimeout('30M')).toBe(1_800_000);
    expect(parseGrpcTimeout('5000u')).toBe(5);
    expect(parseGrpcTimeout('123456789S')).toBeUndefined();
    expect(parseGrpcTimeout('1s')).toBeUndefined();
    expect(parseGrpcTimeout(undefined)).toBeUndefined();
  });
});
