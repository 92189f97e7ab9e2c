import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { redact, redactedMarker, redactString } from './redact';

const jwt = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0aWQiOiJ0ZW5hbnQiLCJyb2xlcyI6WyJNYWlsLlJlYWQiXX0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

function captureLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ name: 'test', level: 'trace', destination }), lines };
}

describe('redaction', () => {
  it('replaces values under secret-named keys at any depth', () => {
    expect(redact({ tenant: 't1', clientSecret: 's3cr3t', nested: { refresh_token: 'rt', list: [{ password: 'p' }] } })).toEqual({
      tenant: 't1',
      clientSecret: redactedMarker,
      nested: { refresh_token: redactedMarker, list: [{ password: redactedMarker }] },
    });
  });

  it('removes tokens, bearer headers, PEM keys and form secrets from free text', () => {
    const text = `got ${jwt} with Authorization: Bearer abc.def.ghi123 and client_secret=abc123&x=1
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASC
-----END PRIVATE KEY-----`;
    const out = redactString(text);
    expect(out).not.toContain('eyJ');
    expect(out).not.toContain('abc.def.ghi123');
    expect(out).not.toContain('abc123');
    expect(out).not.toContain('MIIEvQ');
    expect(out).toContain('x=1');
  });

  it('keeps the logger output free of secrets whatever is logged', () => {
    const { logger, lines } = captureLogger();
    logger.info({ accessToken: jwt, request: { headers: { authorization: `Bearer ${jwt}` } } }, `token ${jwt}`);
    logger.error({ err: new Error(`AADSTS7000215: Invalid client secret provided. client_secret=abcdef`) }, 'failed');
    const output = lines.join('');
    expect(lines).toHaveLength(2);
    expect(output).not.toContain('eyJ');
    expect(output).not.toContain('abcdef');
    expect(output).toContain('AADSTS7000215');
    expect(JSON.parse(lines[1] ?? '{}')).toMatchObject({ level: 'error', service: 'test', err: { type: 'Error' } });
  });
});
