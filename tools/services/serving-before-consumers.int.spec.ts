import { ClientError, Status } from 'nice-grpc';
import { InteractionRouterServiceDefinition, OutboundSendServiceDefinition } from '@mailroute/contracts';
import { createGrpcClient } from '@mailroute/platform';
import { freePort, randomId, startServiceProcess, testInfra, waitForServing, type ServiceProcess } from '@mailroute/testing';
import { dropFleetDatabases, newFleetTenant, withProcessOutput } from './testing/service-fleet';

/**
 * A restarted replica serves its API before its consumer groups settle: a group join can wait out a
 * crashed member's session, and the API needs no partitions. Proved with a broker that does not
 * answer at all (nothing listens on its port): the router and outbound-send still reach SERVING and
 * answer calls, while their consumers keep trying in the background. (Before, start-up waited for
 * every group join and the server listened only after them.)
 */
describe('interaction-router and outbound-send serve before their consumers have joined', () => {
  const tenant = newFleetTenant('serving');
  const procs: ServiceProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((proc) => proc.stop('SIGKILL')));
    await dropFleetDatabases(tenant);
  });

  it('answers grpc.health.v1 SERVING and API calls while Kafka is unreachable', async () => {
    const { mongoUrl } = testInfra();
    // A port nothing listens on: every Kafka connection is refused.
    const brokers = `127.0.0.1:${await freePort()}`;
    const common = { GRPC_PORT: '0', LOG_LEVEL: 'info' };
    const router = startServiceProcess('apps/interaction-router/src/main.ts', {
      ...common,
      ROUTER_MONGODB_URL: mongoUrl,
      ROUTER_MONGODB_DATABASE: tenant.databases.router,
      ROUTER_KAFKA_BROKERS: brokers,
      ROUTER_API_KEYS: `wm:${tenant.tenantId}:routing.read+routing.write:${tenant.apiKeyHash}`,
      ROUTER_METRICS_PORT: '0',
    });
    const send = startServiceProcess('apps/outbound-send/src/main.ts', {
      ...common,
      OUTBOUND_SEND_STORE: 'mongodb',
      OUTBOUND_SEND_MONGODB_URL: mongoUrl,
      OUTBOUND_SEND_MONGODB_DATABASE: tenant.databases.mailboxes,
      OUTBOUND_SEND_KAFKA_BROKERS: brokers,
      OUTBOUND_SEND_AUTH_BROKER_ADDRESS: '127.0.0.1:1',
      OUTBOUND_SEND_AUTH_BROKER_TOKEN: tenant.sendToken,
      OUTBOUND_SEND_API_KEYS: `wm:${tenant.tenantId}:sends.read+sends.write:${tenant.apiKeyHash}`,
      OUTBOUND_SEND_METRICS_PORT: '0',
    });
    procs.push(router, send);
    const serving = async (label: string, proc: ServiceProcess): Promise<string> => {
      try {
        const address = `127.0.0.1:${await proc.port()}`;
        await waitForServing(address, { timeoutMs: 60_000 });
        return address;
      } catch (error) {
        throw withProcessOutput(label, proc, error);
      }
    };
    const [routerAddress, sendAddress] = await Promise.all([
      serving('interaction-router', router),
      serving('outbound-send', send),
    ]);

    const routerApi = createGrpcClient(InteractionRouterServiceDefinition, routerAddress, { deadlineMs: 10_000 });
    const sendApi = createGrpcClient(OutboundSendServiceDefinition, sendAddress, { deadlineMs: 10_000 });
    try {
      await expect(
        routerApi.client.listQueues({ page: { pageSize: 10, pageToken: '' } }, { metadata: tenant.metadata() }),
      ).resolves.toEqual(expect.objectContaining({ queues: [] }));
      const unknown = await sendApi.client
        .getSendStatus({ key: { $case: 'sendId', value: randomId('send') } }, { metadata: tenant.metadata() })
        .catch((error: unknown) => error);
      expect(unknown instanceof ClientError ? unknown.code : unknown).toBe(Status.NOT_FOUND);
      // The consumers have not started (no broker): the API answered without them.
      expect(router.output.some((line) => line.includes('consumers started'))).toBe(false);
    } finally {
      routerApi.close();
      sendApi.close();
    }
  }, 120_000);
});
