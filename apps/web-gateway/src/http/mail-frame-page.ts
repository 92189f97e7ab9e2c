import type { IncomingMessage, ServerResponse } from 'node:http';

/** The path of the empty page a message is shown in once the agent allows its remote images. */
export const mailFramePagePath = '/mail-frame.html';

/**
 * The policy of that page, its own (a `srcdoc` frame inherits the console's, which allows no remote
 * image): no script, no style sheet, font, frame, form, fetch or base; images from anywhere
 * (`http:`/`https:`, `data:` for `cid:` images); inline styles (mail's own styling). `sandbox`
 * repeats the frame's sandbox attribute, so even a top-level visit to the page runs nothing, and only
 * the console may frame it.
 */
const mailFramePolicy = [
  "default-src 'none'",
  'img-src data: blob: https: http:',
  "style-src 'unsafe-inline'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'self'",
  'sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox',
].join('; ');

const page = '<!doctype html><html><head><meta charset="utf-8"><title>message</title></head><body></body></html>';

/**
 * `GET /mail-frame.html`: an empty document under {@link mailFramePolicy}. The console loads it into a
 * message's sandboxed frame (same origin, no allow-scripts) only when the agent chooses "Show remote
 * images" for that message, and copies the message's already sanitized HTML into it; every other
 * message stays in a `srcdoc` frame under the console's policy, which loads nothing remote.
 */
export function serveMailFramePage(request: IncomingMessage, response: ServerResponse): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    response.end('method not allowed\n');
    return;
  }
  response.setHeader('content-security-policy', mailFramePolicy);
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
  response.end(request.method === 'HEAD' ? undefined : page);
}
