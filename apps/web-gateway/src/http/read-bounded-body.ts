import type { IncomingMessage } from 'node:http';

/** The request body is over the limit (by its Content-Length, or by what arrived). */
export class RequestTooLargeError extends Error {
  override readonly name = 'RequestTooLargeError';
  constructor(readonly limitBytes: number) {
    super(`request body larger than ${limitBytes} bytes`);
  }
}

/**
 * Reads a whole request body of at most `limitBytes`: refused by its Content-Length before anything
 * is read, else as soon as more than the limit has arrived (the rest is never buffered).
 */
export function readBoundedBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.reject(new RequestTooLargeError(limitBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limitBytes) {
        // Stop reading (the socket stays usable for the answer; the caller closes the connection after it).
        request.off('data', onData);
        request.pause();
        reject(new RequestTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks, total)));
    request.once('error', reject);
    request.once('aborted', () => reject(new Error('the client aborted the request')));
  });
}
