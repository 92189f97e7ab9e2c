import { createHash, X509Certificate } from 'node:crypto';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';

/**
 * Makes this process trust `caCertPem` for every later TLS connection that does not bring its own CA
 * list — including `fetch`, which MSAL and the Graph client use — on top of the CAs it already trusts.
 *
 * A separate process should instead be started with `NODE_EXTRA_CA_CERTS=<caCertPath>` (read only at
 * start-up; setting it at run time has no effect). This function is the in-process equivalent for test
 * runners and the embedded default, which start the sandbox inside the process that calls it. Idempotent.
 */
export function trustCertificateAuthority(caCertPem: string): void {
  const current = getCACertificates('default');
  const normalized = caCertPem.trim();
  if (current.some((pem) => pem.trim() === normalized)) return;
  setDefaultCACertificates([...current, normalized]);
}

/**
 * The base64 SHA-256 of a certificate's SubjectPublicKeyInfo: what Chromium's
 * `--ignore-certificate-errors-spki-list=<hash>` takes to trust exactly that certificate (browsers do not
 * read NODE_EXTRA_CA_CERTS). The flag is honoured together with `--user-data-dir` (a test profile).
 */
export function spkiSha256(certificatePem: string): string {
  const spki = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
