import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  configurationExitCode,
  createTestCertificateAuthority,
  randomId,
  startSecureKafka,
  startServiceProcess,
  waitFor,
  type SecureKafka,
} from '@mailroute/testing';

// mailbox-fetch as a process against a broker with a SASL_SSL listener: the right settings start it;
// a wrong password, an untrusted certificate and a missing SASL setting stop it with exit 78 and a
// message naming the variable — never a service that hangs retrying.

const user = { name: 'mailbox-fetch', password: `pw-${randomId('kafka')}` };
const workDir = mkdtempSync(path.join(tmpdir(), 'mailbox-fetch-kafka-security-'));
let broker: SecureKafka;
let otherCaFile: string;

beforeAll(async () => {
  broker = await startSecureKafka([user]);
  otherCaFile = (await createTestCertificateAuthority(path.join(workDir, 'other-ca'), 'another CA')).caFile;
}, 180_000);

afterAll(async () => {
  await broker?.dispose();
  rmSync(workDir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const target = path.join(workDir, name);
  writeFileSync(target, content, { mode: 0o600 });
  return target;
}

function baseEnv(name: string): Record<string, string> {
  return {
    GRPC_PORT: '0',
    MAILBOX_FETCH_METRICS_PORT: '0',
    MAILBOX_FETCH_STORE: 'embedded',
    MAILBOX_FETCH_EMBEDDED_PATH: path.join(workDir, `${name}.db`),
    MAILBOX_FETCH_KAFKA_BROKERS: broker.saslSslBrokers,
    KAFKA_TLS: 'true',
    KAFKA_TLS_CA_FILE: broker.caFile,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: user.name,
    KAFKA_SASL_PASSWORD_FILE: file(`${name}-password`, user.password),
  };
}

describe('mailbox-fetch with Kafka over SASL_SSL', () => {
  it('starts and connects with SCRAM-SHA-512 over TLS', async () => {
    const proc = startServiceProcess('apps/mailbox-fetch/src/main.ts', baseEnv('ok'));
    try {
      await waitFor(() => proc.output.some((line) => line.includes('consumers started')), {
        timeoutMs: 90_000,
        description: 'mailbox-fetch connected to Kafka',
      });
      expect(proc.output.join('\n')).not.toContain(user.password);
    } finally {
      await proc.stop('SIGTERM');
    }
  });

  const wrongPassword = `wrong-${randomId('pw')}`;
  it.concurrent.each([
    {
      name: 'a password the brokers reject',
      env: (): Record<string, string> => ({ KAFKA_SASL_PASSWORD_FILE: file('wrong-password', wrongPassword) }),
      variable: 'KAFKA_SASL_PASSWORD_FILE',
    },
    {
      name: 'brokers whose certificate the CA bundle does not trust',
      env: (): Record<string, string> => ({ KAFKA_TLS_CA_FILE: otherCaFile }),
      variable: 'KAFKA_TLS_CA_FILE',
    },
    {
      name: 'a SASL mechanism without its user name',
      env: (): Record<string, string> => ({ KAFKA_SASL_USERNAME: '' }),
      variable: 'KAFKA_SASL_USERNAME',
    },
  ])('$name: exits 78 naming $variable', async ({ name, env, variable }) => {
    const proc = startServiceProcess('apps/mailbox-fetch/src/main.ts', { ...baseEnv(name.replace(/\W+/g, '-')), ...env() });
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 90_000);
    const { code } = await proc.exited;
    clearTimeout(timer);
    const output = proc.output.join('\n');
    expect({ code, names: output.includes(variable) }).toEqual({ code: configurationExitCode, names: true });
    expect(output).not.toContain(wrongPassword);
    expect(output).not.toContain(user.password);
  });
});
