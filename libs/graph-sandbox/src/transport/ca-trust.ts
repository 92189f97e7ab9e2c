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
