import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HostConfigError, parseHostConfig, readHostConfig, sandboxEnabled } from './host-config';

const tenant = {
  id: 'contoso',
  directoryId: '11111111-2222-4333-8444-555555555555',
  clientId: '66666666-7777-4888-9999-000000000000',
  clientSecretEnv: 'CONTOSO_CLIENT_SECRET',
  clientSecretExpires: '2027-05-31',
  queues: [{ id: 'support' }],
  rules: [{ id: 'urgent', subjectContains: ['urgent'], queue: 'support', priority: 500 }],
  mailboxes: [{ id: 'support', address: 'support@contoso.com', queue: 'support' }],
  agents: [{ id: 'alice', upn: 'alice@contoso.com', queues: ['support'] }],
};

describe('the host configuration file', () => {
  it('defaults to the embedded demo: sandbox on, embedded bus and store, loopback ports', () => {
    const config = parseHostConfig({});
    expect(config).toMatchObject({
      dataDir: '.mailroute',
      bus: { kind: 'embedded' },
      store: { kind: 'embedded' },
      ports: { authBroker: 50051, interactionRouter: 50053 },
    });
    expect(sandboxEnabled(config)).toBe(true);
    expect(config.demo).toEqual({ traffic: false, emailsPerMinute: 30, agents: false });
  });

  it('turns the sandbox off by default once real tenants are configured, and fills tenant defaults', () => {
    const config = parseHostConfig({ tenants: [tenant] });
    expect(sandboxEnabled(config)).toBe(false);
    expect(config.tenants[0]).toMatchObject({ authorityHost: 'https://login.microsoftonline.com', agents: [{ capacity: 3 }] });
    expect(sandboxEnabled(parseHostConfig({ tenants: [tenant], sandbox: { enabled: true } }))).toBe(true);
  });

  it.each([
    ['tenants.0.directoryId', { tenants: [{ ...tenant, directoryId: 'contoso.onmicrosoft.com' }] }],
    ['tenants.0.clientSecretEnv', { tenants: [{ ...tenant, clientSecretEnv: 'my secret' }] }],
    ['tenants.0.mailboxes.0.address', { tenants: [{ ...tenant, mailboxes: [{ id: 'support', address: 'not an address' }] }] }],
    [
      'tenants.0.mailboxes.0.queue: no queue "sales"',
      { tenants: [{ ...tenant, mailboxes: [{ id: 'support', address: 'support@contoso.com', queue: 'sales' }] }] },
    ],
    [
      'tenants.0.agents.0.queues: no queue "vip"',
      { tenants: [{ ...tenant, agents: [{ id: 'bob', upn: 'bob@contoso.com', queues: ['vip'] }] }] },
    ],
    [
      'tenants.0.rules.0.queue: no queue "vip"',
      { tenants: [{ ...tenant, rules: [{ id: 'vip', subjectContains: ['vip'], queue: 'vip' }] }] },
    ],
    ['tenants.1.id: "contoso" is used twice', { tenants: [tenant, tenant] }],
    ['bus.brokers', { bus: { kind: 'kafka', brokers: [] } }],
    ['store.url', { store: { kind: 'mongodb', url: 'http://db' } }],
    ['(root)', { clientSecret: 'inline secrets are refused' }],
    ['ports.authBroker', { ports: { authBroker: 70000 } }],
  ])('refuses a bad value, naming it: %s', (field, input) => {
    expect(() => parseHostConfig(input, 'mailroute.json')).toThrow(HostConfigError);
    expect(() => parseHostConfig(input, 'mailroute.json')).toThrow(field);
  });

  it('takes the public notification URL and port for Graph change notifications, refusing a non-HTTPS URL', () => {
    const push = { publicUrl: 'https://hooks.example.com/graph', tlsCertFile: 'push.crt', tlsKeyFile: 'push.key' };
    expect(parseHostConfig({ push }).push).toEqual({ ...push, host: '0.0.0.0', port: 8443 });
    expect(parseHostConfig({}).push).toBeUndefined();
    expect(() => parseHostConfig({ push: { ...push, publicUrl: 'http://hooks.example.com/graph' } })).toThrow(/push\.publicUrl/);
  });

  it('takes grpc.tls files for TLS between the services, naming the field that is missing or unreadable', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-grpc-tls-'));
    try {
      const [caFile, certFile, keyFile] = ['ca.crt', 'host.crt', 'host.key'].map((name) => path.join(dir, name)) as [
        string,
        string,
        string,
      ];
      for (const file of [caFile, certFile, keyFile]) writeFileSync(file, 'PEM');
      expect(parseHostConfig({ grpc: { tls: { caFile, certFile, keyFile, requireClientCert: true } } }).grpc.tls).toEqual({
        caFile,
        certFile,
        keyFile,
        requireClientCert: true,
      });
      expect(parseHostConfig({}).grpc.tls).toBeUndefined();
      expect(() => parseHostConfig({ grpc: { tls: { caFile, certFile } } })).toThrow(
        new HostConfigError('configuration is invalid:\n  grpc.tls.keyFile: is required with the other of certFile/keyFile'),
      );
      expect(() => parseHostConfig({ grpc: { tls: { caFile, requireClientCert: true } } })).toThrow(
        /grpc\.tls\.certFile: is required with requireClientCert/,
      );
      expect(() => parseHostConfig({ grpc: { tls: { caFile: path.join(dir, 'missing.crt') } } })).toThrow(
        /grpc\.tls\.caFile: names a file that cannot be read/,
      );
      expect(() => parseHostConfig({ grpc: { tls: { certFile, keyFile } } })).toThrow(/grpc\.tls\.caFile/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a JSON file, resolving dataDir from the file folder, and names the file in errors', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-config-'));
    try {
      const file = path.join(dir, 'mailroute.json');
      writeFileSync(file, JSON.stringify({ dataDir: 'state', tenants: [tenant] }));
      expect(readHostConfig(file).dataDir).toBe(path.join(dir, 'state'));
      writeFileSync(file, '{ "tenants": [ }');
      expect(() => readHostConfig(file)).toThrow(`${file} is not valid JSON`);
      expect(() => readHostConfig(path.join(dir, 'missing.json'))).toThrow('ENOENT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts the documented example file (mailroute.example.json)', () => {
    const config = readHostConfig(path.join(__dirname, '../../../../mailroute.example.json'));
    expect(config.tenants.map((t) => t.id)).toEqual(['contoso']);
    expect(config.tenants[0]?.rules[0]).toMatchObject({ queue: 'support', priority: 500 });
    expect(sandboxEnabled(config)).toBe(false);
  });
});
