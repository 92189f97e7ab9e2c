import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

/** What an endpoint answered (status and up to 64 KB of the body), or why it could not be reached. */
export type EndpointAnswer =
  | { ok: true; status: number; body: string; contentType: string }
  | { ok: false; reason: 'timeout' | 'unreachable'; detail: string };

/** The longest body the sandbox reads from a subscriber's answer; Graph only needs the echoed token. */
const maxAnswerBytes = 64 * 1024;

/**
 * POSTs to a subscriber's HTTPS endpoint, as Graph does for validation handshakes and notifications.
 * Certificates are checked against the system roots plus `trustedCaPems` (the sandbox's own CA and any
 * CA a test configured), never skipped.
 */
export function postToSubscriber(
  url: URL,
  init: { body: string; contentType: string; timeoutMs: number; trustedCaPems: readonly string[] },
): Promise<EndpointAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: EndpointAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const request = httpsRequest(
      url,
      {
        method: 'POST',
        ca: [...rootCertificates, ...init.trustedCaPems],
        headers: { 'content-type': init.contentType, 'content-length': Buffer.byteLength(init.body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= maxAnswerBytes) chunks.push(chunk);
        });
        response.on('end', () =>
          settle({
            ok: true,
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            contentType: String(response.headers['content-type'] ?? ''),
          }),
        );
        response.on('error', (error) => settle({ ok: false, reason: 'unreachable', detail: error.message }));
      },
    );
    const timer = setTimeout(() => {
      settle({ ok: false, reason: 'timeout', detail: `no answer within ${init.timeoutMs} ms` });
      request.destroy();
    }, init.timeoutMs);
    request.on('error', (error) => settle({ ok: false, reason: 'unreachable', detail: error.message }));
    request.end(init.body);
  });
}
