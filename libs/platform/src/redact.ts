/** What replaces a secret in logs, traces and error messages. */
export const redactedMarker = '[REDACTED]';

/** Keys whose values are secrets whatever they hold. */
const secretKeyPattern =
  /secret|password|passwd|token|authorization|assertion|private_?key|privatekey|credential|cookie|api_?key|encryption_?key|client_?assertion/i;

/** Secret-looking substrings inside otherwise harmless strings. */
const secretValuePatterns: readonly RegExp[] = [
  // JWTs (access tokens, ID tokens, client assertions).
  /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g,
  // Bearer credentials in headers or messages.
  /\b(bearer)\s+[\w.~+/=-]{8,}/gi,
  // PEM blocks (private keys, certificates).
  /-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g,
  // key=value style secrets in URLs and form bodies.
  /\b(client_secret|refresh_token|access_token|code|password|client_assertion)=[^&\s"']+/gi,
];

/** Removes secret-looking substrings from a string. */
export function redactString(value: string): string {
  let out = value;
  for (const pattern of secretValuePatterns) {
    out = out.replace(pattern, (match, prefix: unknown) =>
      typeof prefix === 'string' && !match.startsWith('eyJ') && !match.startsWith('-----')
        ? `${prefix}${match.includes('=') ? '=' : ' '}${redactedMarker}`
        : redactedMarker,
    );
  }
  return out;
}

/**
 * Returns a copy of `value` safe to log: values under secret-named keys are replaced, secret-looking
 * substrings removed, Errors flattened to `{ type, message, stack, code, cause }`. Cycles and depth
 * are bounded.
 */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[…]';
  seen.add(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (value instanceof Date) return value;
  if (value instanceof Error) {
    const flat: Record<string, unknown> = { type: value.name, message: value.message, stack: value.stack };
    for (const key of ['code', 'field', 'retryable', 'details', 'path'] as const) {
      const field = (value as unknown as Record<string, unknown>)[key];
      if (field !== undefined) flat[key] = field;
    }
    if (value.cause !== undefined) flat['cause'] = value.cause;
    if (value instanceof AggregateError) flat['errors'] = value.errors;
    return redact(flat, depth + 1, seen);
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      secretKeyPattern.test(key) && item !== undefined && item !== null && typeof item !== 'boolean'
        ? redactedMarker
        : redact(item, depth + 1, seen);
  }
  return out;
}
