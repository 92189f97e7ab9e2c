// A throw-away certificate authority for tests, made with the openssl CLI: a CA certificate and
// leaf certificates it signs (server and client use), PEM files in one directory. Tests need real
// X.509 chains (Kafka's SASL_SSL listener, gRPC over TLS with client certificates) and Node's
// crypto cannot issue certificates; openssl is on every machine that runs the broker.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * @typedef {{ certFile: string, keyFile: string, cert: string, key: string }} IssuedCertificate
 * @typedef {{ dir: string, name: string, caFile: string, ca: string,
 *   issue: (name: string, options?: { hosts?: string[], days?: number }) => IssuedCertificate }} TestCa
 */

function openssl(args, cwd) {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.error) throw new Error(`test-infra: openssl is needed for test certificates (${result.error.message})`);
  if (result.status !== 0) throw new Error(`test-infra: openssl ${args[0]} failed (exit ${result.status}): ${result.stderr}`);
}

/**
 * Creates a CA in `dir` (created if missing) named `name`. `issue(name, { hosts })` writes
 * `<name>.crt` (the leaf, then the CA: a full chain) and `<name>.key` (unencrypted PKCS#8 RSA, which
 * both Node and Kafka's PEM key store read), valid for serverAuth and clientAuth, with a
 * subjectAltName per host (IP addresses as IP entries). Default hosts: 127.0.0.1 and localhost.
 * @param {string} dir
 * @param {{ name?: string, days?: number }} [options]
 * @returns {TestCa}
 */
export function createTestCa(dir, options = {}) {
  const name = options.name ?? 'mailroute test CA';
  fs.mkdirSync(dir, { recursive: true });
  const caKey = path.join(dir, 'ca.key');
  const caFile = path.join(dir, 'ca.crt');
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      caKey,
      '-out',
      caFile,
      '-days',
      String(options.days ?? 2),
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  fs.chmodSync(caKey, 0o600);
  const ca = fs.readFileSync(caFile, 'utf8');
  let serial = 1;
  return {
    dir,
    name,
    caFile,
    ca,
    issue(leafName, leafOptions = {}) {
      const hosts = leafOptions.hosts ?? ['127.0.0.1', 'localhost'];
      const keyFile = path.join(dir, `${leafName}.key`);
      const csrFile = path.join(dir, `${leafName}.csr`);
      const certFile = path.join(dir, `${leafName}.crt`);
      const extFile = path.join(dir, `${leafName}.ext`);
      const sans = hosts.map((host) => (/^[\d.]+$|:/.test(host) ? `IP:${host}` : `DNS:${host}`)).join(',');
      fs.writeFileSync(
        extFile,
        [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature,keyEncipherment',
          'extendedKeyUsage=serverAuth,clientAuth',
          `subjectAltName=${sans}`,
          '',
        ].join('\n'),
      );
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${leafName}`], dir);
      openssl(
        [
          'x509',
          '-req',
          '-in',
          csrFile,
          '-CA',
          caFile,
          '-CAkey',
          caKey,
          '-set_serial',
          String(Date.now() * 100 + serial++),
          '-days',
          String(leafOptions.days ?? 2),
          '-extfile',
          extFile,
          '-out',
          certFile,
        ],
        dir,
      );
      fs.rmSync(csrFile, { force: true });
      fs.rmSync(extFile, { force: true });
      fs.chmodSync(keyFile, 0o600);
      fs.writeFileSync(certFile, fs.readFileSync(certFile, 'utf8') + ca);
      return { certFile, keyFile, cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
    },
  };
}
