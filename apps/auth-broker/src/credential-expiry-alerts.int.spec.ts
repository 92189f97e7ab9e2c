import { randomBytes } from 'node:crypto';
import { Metadata } from 'nice-grpc';
import { MongoClient } from 'mongodb';
import { type AlertEvent, AlertKind, AlertStatus, AuthBrokerServiceDefinition, AuthorityCloud } from '@mailroute/contracts';
import { createAlertEventPublisher, events, fromEventMessage, KafkaEventBus, type Subscription } from '@mailroute/messaging';
import { createGrpcClient, createLogger, createSecretBox, hashBearerCredential } from '@mailroute/platform';
import { randomId, sampleAppCredentials, startServiceProcess, testInfra, waitFor, type ServiceProcess } from '@mailroute/testing';
import { createAuthBrokerCore, type AuthBrokerCore } from './auth-broker';
import { openMongoStores, type AuthBrokerStores } from './store/auth-broker.stores';

const dayMs = 86_400_000;
const secretSeen = 'never-in-an-event-0123456789';

/**
 * Credential-expiry alerts through the running pieces (FerretDB, Kafka): two auth-broker replicas
 * over one store sweep the tenants' credentials; each condition is published once across them, and
 * resolves when the credentials are renewed or deleted. Then the auth-broker process with
 * AUTH_BROKER_KAFKA_BROKERS publishes the alert for credentials created through its API.
 */
describe('credential-expiry alert events', () => {
  const logger = createLogger({ name: 'ab-alerts-test', level: 'silent' });
  const database = randomId('ab-alerts');
  const tenantId = randomId('tenant');
  const received: AlertEvent[] = [];
  let bus: KafkaEventBus;
  let subscription: Subscription;
  const opened: AuthBrokerStores[] = [];
  const cores: AuthBrokerCore[] = [];
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: randomId('ab-alerts') });
    await bus.ensureTopics([{ topic: events.alert.topic, partitions: 4 }]);
    subscription = await bus.subscribe({
      groupId: randomId('ab-alert-watch'),
      topics: [events.alert.topic],
      fromBeginning: false,
      handler: async (message) => {
        const event = fromEventMessage('alert', message);
        if (event.tenantId === tenantId || event.tenantId.startsWith(`${tenantId}-`)) received.push(event);
      },
    });
    await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    await Promise.all(processes.map((process) => process.stop()));
    await Promise.all(cores.map((core) => core.close()));
    await Promise.all(opened.map((stores) => stores.close()));
    await subscription?.close({ graceMs: 0 });
    await bus?.close();
    const client = await MongoClient.connect(testInfra().mongoUrl);
    await client.db(database).dropDatabase();
    await client.close();
  });

  const of = (credentialsId: string, kind: AlertKind, status: AlertStatus) =>
    received.filter((event) => event.credentialsId === credentialsId && event.kind === kind && event.status === status);

  it('publishes one EXPIRING and one EXPIRED event across two replicas, and RESOLVED on renewal and deletion', async () => {
    const box = createSecretBox({ keys: [{ id: 'k1', key: randomBytes(32) }], activeKeyId: 'k1' });
    const replica = async () => {
      const stores = await openMongoStores({ url: testInfra().mongoUrl, database });
      opened.push(stores);
      // The timer's sweep is not waited for: the explicit sweeps below are the ones counted.
      const core = createAuthBrokerCore({
        stores,
        secretBox: box,
        logger,
        publishAlert: createAlertEventPublisher(bus),
        options: { metricsScanIntervalMs: 3_600_000 },
      });
      cores.push(core);
      return core;
    };
    const [a, b] = [await replica(), await replica()];
    const [stores] = opened;
    if (!stores) throw new Error('expected the replicas’ stores');
    const now = Date.now();
    const secret = (credentialsId: string) => box.seal(secretSeen, `${tenantId}/${credentialsId}`);
    const withExpiry = (credentialsId: string, expiresAt: Date) => ({
      ...sampleAppCredentials(tenantId, credentialsId),
      credential: { kind: 'client-secret' as const, secret: secret(credentialsId), expiresAt },
    });
    const soon = await stores.credentials.create(withExpiry('soon', new Date(now + 10 * dayMs)), new Date());
    await stores.credentials.create(withExpiry('old', new Date(now - dayMs)), new Date());
    await stores.credentials.create(withExpiry('fine', new Date(now + 90 * dayMs)), new Date());

    const sweeps = async () =>
      (
        await Promise.all([a, b].map((core) => core.credentialAlerts?.sweep() ?? Promise.reject(new Error('alerts are off'))))
      ).reduce((x, y) => x + y);
    expect((await sweeps()) + (await sweeps())).toBe(2);
    await waitFor(() => received.length >= 2, { timeoutMs: 60_000 });
    expect(of('soon', AlertKind.ALERT_KIND_CREDENTIAL_EXPIRING, AlertStatus.ALERT_STATUS_FIRING)).toHaveLength(1);
    expect(of('old', AlertKind.ALERT_KIND_CREDENTIAL_EXPIRED, AlertStatus.ALERT_STATUS_FIRING)).toHaveLength(1);
    const [expiring] = of('soon', AlertKind.ALERT_KIND_CREDENTIAL_EXPIRING, AlertStatus.ALERT_STATUS_FIRING);
    expect(expiring).toMatchObject({ value: 9, threshold: 30, detail: expect.stringContaining('client-secret expires') });

    // Renewed (a later expiry, a new revision) and deleted: each firing condition resolves, once.
    await stores.credentials.replace(
      { ...soon, ...withExpiry('soon', new Date(now + 365 * dayMs)), version: soon.version, revision: 'r2' } as typeof soon,
      new Date(),
    );
    await stores.credentials.delete(tenantId, 'old');
    expect((await sweeps()) + (await sweeps())).toBe(2);
    await waitFor(() => received.length >= 4, { timeoutMs: 60_000 });
    expect(of('soon', AlertKind.ALERT_KIND_CREDENTIAL_EXPIRING, AlertStatus.ALERT_STATUS_RESOLVED)).toHaveLength(1);
    expect(of('old', AlertKind.ALERT_KIND_CREDENTIAL_EXPIRED, AlertStatus.ALERT_STATUS_RESOLVED)).toHaveLength(1);
    expect(of('old', AlertKind.ALERT_KIND_CREDENTIAL_EXPIRED, AlertStatus.ALERT_STATUS_RESOLVED)[0]?.detail).toBe(
      'credentials deleted',
    );
    // Nothing else: no second event per phase, nothing for the credentials far from expiry, no secret.
    expect(received.filter((event) => event.tenantId === tenantId)).toHaveLength(4);
    expect(JSON.stringify(received)).not.toContain(secretSeen);
  });

  it('the auth-broker process with AUTH_BROKER_KAFKA_BROKERS publishes EXPIRING for credentials created through its API', async () => {
    const tenant = `${tenantId}-p`;
    const apiKey = `mrk_${randomBytes(16).toString('hex')}`;
    const process = startServiceProcess('apps/auth-broker/src/main.ts', {
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      AUTH_BROKER_STORE: 'mongodb',
      AUTH_BROKER_MONGODB_URL: testInfra().mongoUrl,
      AUTH_BROKER_MONGODB_DATABASE: database,
      AUTH_BROKER_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      AUTH_BROKER_API_KEYS: `wm:${tenant}:credentials.read+credentials.write:${hashBearerCredential(apiKey)}`,
      AUTH_BROKER_METRICS_PORT: '0',
      AUTH_BROKER_KAFKA_BROKERS: testInfra().kafkaBrokers.join(','),
      AUTH_BROKER_HEALTH_SCAN_SECONDS: '5',
    });
    processes.push(process);
    const { client, close } = createGrpcClient(AuthBrokerServiceDefinition, `127.0.0.1:${await process.port()}`, {
      deadlineMs: 60_000,
    });
    try {
      await client.createTenantCredentials(
        {
          credentialsId: 'api',
          spec: {
            displayName: 'expiring',
            directoryId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
            clientId: '11111111-2222-3333-4444-555555555555',
            cloud: AuthorityCloud.AUTHORITY_CLOUD_GLOBAL,
            authorityHost: '',
            graphEndpoint: '',
            credential: { $case: 'clientSecret', value: { value: secretSeen, expiresAt: new Date(Date.now() + 10 * dayMs) } },
          },
        },
        { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) },
      );
      await waitFor(() => received.some((event) => event.tenantId === tenant), { timeoutMs: 90_000 });
      expect(received.filter((event) => event.tenantId === tenant)).toEqual([
        expect.objectContaining({
          credentialsId: 'api',
          kind: AlertKind.ALERT_KIND_CREDENTIAL_EXPIRING,
          status: AlertStatus.ALERT_STATUS_FIRING,
        }),
      ]);
      expect(process.output.join('\n')).not.toContain(secretSeen);
    } finally {
      close();
    }
  });
  it('without AUTH_BROKER_KAFKA_BROKERS the process serves as before and logs once that credential alerts are off', async () => {
    const process = startServiceProcess('apps/auth-broker/src/main.ts', {
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      AUTH_BROKER_STORE: 'mongodb',
      AUTH_BROKER_MONGODB_URL: testInfra().mongoUrl,
      AUTH_BROKER_MONGODB_DATABASE: database,
      AUTH_BROKER_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      AUTH_BROKER_METRICS_PORT: '0',
      AUTH_BROKER_HEALTH_SCAN_SECONDS: '5',
    });
    processes.push(process);
    expect(await process.port()).toBeGreaterThan(0);
    const notices = process.output.filter((line) => line.includes('credential-expiry alert events are off'));
    expect(notices).toHaveLength(1);
  });
});
