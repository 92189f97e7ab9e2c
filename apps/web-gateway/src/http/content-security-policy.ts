/**
 * The console's Content-Security-Policy, sent with every response of the gateway:
 *
 * - scripts, styles, fonts, workers and the manifest only from the gateway itself (no inline script,
 *   no `eval`, no CDN): the built console is plain files (see apps/web-console);
 * - `style-src-attr 'unsafe-inline'`: sanitized mail keeps `style` attributes (their values are
 *   limited by the mail sanitizer's allow-list, no `url()`); `<style>` elements stay blocked;
 * - images from the gateway, `data:` and `blob:` (inline `cid:` images are shown from the stored
 *   attachment as blob URLs) — never from another origin, so remote images in mail load nothing
 *   (a message whose remote images the agent allows is shown in /mail-frame.html, which has a policy
 *   of its own: http/mail-frame-page.ts);
 * - fetches to the gateway and to the Entra authority's origin (msal-browser redeems the sign-in
 *   code there) and frames of the authority (msal-browser's silent renewal); nothing else remote;
 * - frames: the sandboxed mail frame is a `srcdoc` (or `blob:`) frame, which inherits this policy,
 *   so mail inside it can run no script and load nothing remote even if the sandbox attribute were
 *   missing; the console itself may be framed by nobody but itself (`frame-ancestors 'self'`);
 * - `base-uri 'none'`, `object-src 'none'`, `form-action 'self'`.
 */
export function contentSecurityPolicy(authorityOrigins: readonly string[]): string {
  const remote = authorityOrigins.join(' ');
  const withRemote = (sources: string) => (remote ? `${sources} ${remote}` : sources);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${withRemote("'self'")}`,
    `frame-src ${withRemote("'self' blob:")}`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** Headers every response carries besides the policy. */
export const securityHeaders: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};
