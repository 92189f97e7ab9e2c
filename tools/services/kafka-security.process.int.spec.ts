import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import {
  configurationExitCode,
  createTestCertificateAuthority,
  randomId,
  startSecureKafka,
  startServiceProcess,
  testInfra,
  type SecureKafka,
} from '@mailroute/testing';
import { dropFleetDatabases, newFleetTenant, serviceEnvironment } from './testing/service-fleet';

// interaction-router and outbound-send as processes against a broker with a SASL_SSL listener (as
// apps/mailbox-fetch/src/kafka-security.process.int.spec.ts does for mailbox-fetch): a password the
// brokers reject, brokers whose certificate is not trusted and a SASL mechanism without its user name
// each stop the service with exit 78 and a message naming the variable — never a consumer that
// retries forever. Both connect only when their consumers start (after the gRPC port is bound).

const user = { name: 'mailroute', password: `pw-${randomId('kafka')}` };
const workDir = mkdtempSync(path.join(tmpdir(), 'kafka-security-processes-'));
const tenant = newFleetTenant('kafka-sec');
let broker: SecureKafka;
let otherCaFile: string;

beforeAll(async () => {
  broker = await startSecureKafka([user]);
  otherCaFile = (await createTestCertificateAuthority(path.join(workDir, 'other-ca'), 'another CA')).caFile;
}, 180_000);

afterAll(async () => {
  await broker?.dispose();
  await dropFleetDatabases(tenant);
  rmSync(workDir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const target = path.join(workDir, name);
  writeFileSync(target, content, { mode: 0o600 });
  return target;
}

const services = [
  { service: 'interaction-router', extra: { ROUTER_METRICS_PORT: '0' } },
  { service: 'outbound-send', extra: {} },
] as const;

const wrongPassword = `wrong-${randomId('pw')}`;
const cases = services.flatMap(({ service, extra }) =>
  [
    {
      name: 'a password the brokers reject',
      env: (): Record<string, string> => ({ KAFKA_SASL_PASSWORD_FILE: file(`${service}-wrong-password`, wrongPassword) }),
      variable: 'KAFKA_SASL_PASSWORD_FILE',
    },
    {
      name: 'brokers whose certificate the CA file does not trust',
      env: (): Record<string, string> => ({ KAFKA_TLS_CA_FILE: otherCaFile }),
      variable: 'KAFKA_TLS_CA_FILE',
    },
    {
      name: 'a SASL mechanism without its user name',
      env: (): Record<string, string> => ({ KAFKA_SASL_USERNAME: '' }),
      variable: 'KAFKA_SASL_USERNAME',
    },
  ].map((each) => ({ ...each, service, extra })),
);

describe('interaction-router and outbound-send with Kafka over SASL_SSL', () => {
  it.concurrent.each(cases)('$service, $name: exits 78 naming $variable', async ({ service, extra, env, variable }) => {
    const proc = startServiceProcess(`apps/${service}/src/main.ts`, {
      ...serviceEnvironment(service, {
        tenant,
        endpoints: { baseUrl: 'https://127.0.0.1:1' } as GraphSandboxEndpoints,
        mongoUrl: testInfra().mongoUrl,
        brokers: broker.saslSslBrokers,
        authBrokerAddress: '127.0.0.1:1',
        common: { GRPC_PORT: '0', LOG_LEVEL: 'info' },
      }),
      ...extra,
      KAFKA_TLS: 'true',
      KAFKA_TLS_CA_FILE: broker.caFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: user.name,
      KAFKA_SASL_PASSWORD_FILE: file(`${service}-password`, user.password),
      ...env(),
    });
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 120_000);
    const { code } = await proc.exited;
    clearTimeout(timer);
    const output = proc.output.join('\n');
    expect({ code, names: output.includes(variable) }).toEqual({ code: configurationExitCode, names: true });
    expect(output).not.toContain(wrongPassword);
    expect(output).not.toContain(user.password);
  });
});
