// @peculiar/x509 registers its services with tsyringe, which needs a Reflect metadata polyfill.
import 'reflect-metadata';
import { createHash, createPrivateKey, webcrypto, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { ensurePrivateDirectory, ensurePrivateFile, writePrivateFile } from '@mailroute/platform';
import { TlsMaterialError } from '../errors';
import type { Clock } from '../shared/clock';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const rsa = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;
const dayMs = 86_400_000;

/** The TLS material the HTTPS listener serves and clients trust. */
export interface TlsMaterial {
  caCertPem: string;
  /** Where `ca.pem` was written: the value for `NODE_EXTRA_CA_CERTS`. */
  caCertPath: string;
  serverCertPem: string;
  serverKeyPem: string;
}

/** A certificate with its private key, e.g. an app registration's certificate credential. */
export interface CertificateWithKey {
  certificatePem: string;
  privateKeyPem: string;
  /** Hex SHA-256 thumbprint (what MSAL's `clientCertificate.thumbprintSha256` takes). */
  thumbprintSha256: string;
  /** Hex SHA-1 thumbprint (the portal's "Thumbprint" column; MSAL's deprecated `thumbprint`). */
  thumbprintSha1: string;
}

function serial(): string {
  return createHash('sha1')
    .update(webcrypto.getRandomValues(new Uint8Array(16)))
    .digest('hex')
    .slice(0, 16);
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function createCa(now: number): Promise<{ cert: x509.X509Certificate; keyPem: string; keys: CryptoKeyPair }> {
  const keys = (await webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=mailroute graph-sandbox local CA (never trust in production), O=mailroute',
    notBefore: new Date(now - dayMs),
    notAfter: new Date(now + 3650 * dayMs),
    keys,
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, keyPem: await exportKeyPem(keys.privateKey) };
}

async function importCaKey(pem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), ecdsa, false, ['sign']);
}

async function issueServerCertificate(
  ca: x509.X509Certificate,
  caKey: CryptoKey,
  hosts: readonly string[],
  now: number,
): Promise<{ certPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify'])) as CryptoKeyPair;
  const names = hosts.map((host) =>
    /^[\d.]+$|:/.test(host) ? { type: 'ip' as const, value: host } : { type: 'dns' as const, value: host },
  );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${hosts[0] ?? '127.0.0.1'}`,
    issuer: ca.subject,
    notBefore: new Date(now - dayMs),
    notAfter: new Date(now + 365 * dayMs),
    signingKey: caKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function stillValidFor(certPem: string, hosts: readonly string[], now: number): boolean {
  const cert = new NodeX509Certificate(certPem);
  if (Date.parse(cert.validTo) < now + 7 * dayMs) return false;
  return hosts.every((host) => (/^[\d.]+$|:/.test(host) ? cert.checkIP(host) : cert.checkHost(host)) !== undefined);
}

/**
 * Loads the CA from `certDir` (`ca.pem`, `ca-key.pem`) or creates and writes it, then loads or issues a
 * server certificate for `hosts` signed by it (`server.pem`, `server-key.pem`). Reusing the CA across
 * restarts keeps `NODE_EXTRA_CA_CERTS=<certDir>/ca.pem` valid for every later run. Keys are ECDSA P-256.
 */
export async function loadOrCreateTlsMaterial(options: {
  certDir: string;
  hosts: readonly string[];
  clock: Clock;
}): Promise<TlsMaterial> {
  const { certDir, hosts } = options;
  const now = options.clock();
  const file = (name: string) => path.join(certDir, name);
  try {
    ensurePrivateDirectory(certDir);
    let caCertPem = await readIfPresent(file('ca.pem'));
    let caKeyPem = await readIfPresent(file('ca-key.pem'));
    let caCert: x509.X509Certificate;
    let caKey: CryptoKey;
    if (caCertPem && caKeyPem) {
      caCert = new x509.X509Certificate(caCertPem);
      caKey = await importCaKey(caKeyPem);
    } else {
      const created = await createCa(now);
      caCert = created.cert;
      caKey = created.keys.privateKey;
      caCertPem = caCert.toString('pem');
      caKeyPem = created.keyPem;
      writePrivateFile(file('ca-key.pem'), caKeyPem);
      writePrivateFile(file('ca.pem'), caCertPem);
    }
    let serverCertPem = await readIfPresent(file('server.pem'));
    let serverKeyPem = await readIfPresent(file('server-key.pem'));
    const issuedByThisCa =
      serverCertPem !== undefined && new NodeX509Certificate(serverCertPem).checkIssued(new NodeX509Certificate(caCertPem));
    if (!serverCertPem || !serverKeyPem || !issuedByThisCa || !stillValidFor(serverCertPem, hosts, now)) {
      const issued = await issueServerCertificate(caCert, caKey, hosts, now);
      serverCertPem = issued.certPem;
      serverKeyPem = issued.keyPem;
      writePrivateFile(file('server-key.pem'), serverKeyPem);
      writePrivateFile(file('server.pem'), serverCertPem);
    }
    // Material kept from an earlier run (or an older version) becomes the user's only too.
    for (const name of ['ca.pem', 'ca-key.pem', 'server.pem', 'server-key.pem']) ensurePrivateFile(file(name));
    return { caCertPem, caCertPath: file('ca.pem'), serverCertPem, serverKeyPem };
  } catch (error) {
    throw new TlsMaterialError(`cannot load or create the sandbox CA in ${certDir}`, { cause: error });
  }
}

/**
 * A self-signed RSA certificate with its key: what an admin uploads under "Certificates & secrets" and
 * what MSAL signs client assertions with. Also used for the token-signing key's `x5c`.
 */
export async function createSelfSignedRsaCertificate(options: {
  subject: string;
  validDays?: number;
  clock: Clock;
}): Promise<CertificateWithKey> {
  const now = options.clock();
  const keys = (await webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${options.subject}`,
    notBefore: new Date(now - dayMs),
    notAfter: new Date(now + (options.validDays ?? 365) * dayMs),
    keys,
    signingAlgorithm: rsa,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const der = Buffer.from(cert.rawData);
  return {
    certificatePem: cert.toString('pem'),
    privateKeyPem: await exportKeyPem(keys.privateKey),
    thumbprintSha256: createHash('sha256').update(der).digest('hex'),
    thumbprintSha1: createHash('sha1').update(der).digest('hex'),
  };
}

/** Parses a PEM private key into a KeyObject (for signing). */
export function toPrivateKey(pem: string) {
  return createPrivateKey(pem);
}
