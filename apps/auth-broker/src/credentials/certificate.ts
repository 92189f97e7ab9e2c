import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ValidationError } from '@mailroute/platform';

/** What mailroute keeps about a certificate besides its (sealed) private key. */
export interface CertificateFacts {
  /** The first certificate of the PEM (the app's), PEM-encoded. */
  leafPem: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * Parses and checks a certificate and its private key as CertificateInput documents them: PEM, RSA
 * of 2048 bits or more, the certificate's public key matching the private key, not expired at
 * `now`. Errors name the field (`spec.certificate.private_key_pem`, …) and never echo key material.
 */
export function readCertificate(
  input: { privateKeyPem: string; certificatePem: string },
  now: Date,
  fieldPrefix: string,
): CertificateFacts {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: input.privateKeyPem, format: 'pem' });
  } catch {
    throw new ValidationError(
      `${fieldPrefix}.private_key_pem`,
      'is not an unencrypted PEM private key ("BEGIN PRIVATE KEY" or "BEGIN RSA PRIVATE KEY")',
    );
  }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ValidationError(`${fieldPrefix}.private_key_pem`, 'must be an RSA key of 2048 bits or more');
  }
  const leafPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(input.certificatePem)?.[0];
  let certificate: X509Certificate;
  try {
    if (!leafPem) throw new Error('no certificate');
    certificate = new X509Certificate(leafPem);
  } catch {
    throw new ValidationError(`${fieldPrefix}.certificate_pem`, 'is not a PEM X.509 certificate ("BEGIN CERTIFICATE")');
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new ValidationError(
      `${fieldPrefix}.certificate_pem`,
      "does not match private_key_pem (the certificate's public key belongs to another key)",
    );
  }
  const notAfter = new Date(certificate.validTo);
  if (notAfter.getTime() <= now.getTime()) {
    throw new ValidationError(
      `${fieldPrefix}.certificate_pem`,
      `expired on ${notAfter.toISOString()}; create a new certificate and upload it to the app registration`,
    );
  }
  return {
    leafPem: `${leafPem}\n`,
    thumbprintSha1: certificate.fingerprint.replaceAll(':', '').toUpperCase(),
    thumbprintSha256: certificate.fingerprint256.replaceAll(':', '').toUpperCase(),
    subject: certificate.subject.replaceAll('\n', ', '),
    issuer: certificate.issuer.replaceAll('\n', ', '),
    notBefore: new Date(certificate.validFrom),
    notAfter,
  };
}
