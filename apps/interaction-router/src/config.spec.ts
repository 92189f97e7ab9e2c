import { ConfigError, loadConfig, serviceSchema } from '@mailroute/platform';
import { configSchema } from './config';

const schema = serviceSchema(configSchema);
const base = { ROUTER_STORE: 'embedded' };

function problemOf(variables: Record<string, string>): ConfigError | undefined {
  try {
    loadConfig(schema, { ...base, ...variables });
  } catch (caught) {
    return caught as ConfigError;
  }
  return undefined;
}

describe('interaction-router failover configuration', () => {
  it('defaults to failover in seconds: a 6 s Kafka session (heartbeats from the bus: a tenth of it) and a 5 s planner lease', () => {
    const config = loadConfig(schema, base);
    expect(config).toMatchObject({ ROUTER_KAFKA_SESSION_TIMEOUT_MS: 6_000, ROUTER_PLANNER_LEASE_MS: 5_000 });
    expect(config.ROUTER_KAFKA_HEARTBEAT_INTERVAL_MS).toBeUndefined();
  });

  it('takes a shorter session, heartbeat and lease for faster failover', () => {
    expect(
      loadConfig(schema, {
        ...base,
        ROUTER_KAFKA_SESSION_TIMEOUT_MS: '6000',
        ROUTER_KAFKA_HEARTBEAT_INTERVAL_MS: '500',
        ROUTER_PLANNER_LEASE_MS: '4000',
      }),
    ).toMatchObject({
      ROUTER_KAFKA_SESSION_TIMEOUT_MS: 6_000,
      ROUTER_KAFKA_HEARTBEAT_INTERVAL_MS: 500,
      ROUTER_PLANNER_LEASE_MS: 4_000,
    });
  });

  it('refuses a session shorter than brokers accept, and a heartbeat over a third of the session, naming the variable', () => {
    expect(problemOf({ ROUTER_KAFKA_SESSION_TIMEOUT_MS: '3000' })?.variables).toEqual(['ROUTER_KAFKA_SESSION_TIMEOUT_MS']);
    const heartbeat = problemOf({ ROUTER_KAFKA_SESSION_TIMEOUT_MS: '6000', ROUTER_KAFKA_HEARTBEAT_INTERVAL_MS: '2500' });
    expect(heartbeat).toBeInstanceOf(ConfigError);
    expect(heartbeat?.variables).toEqual(['ROUTER_KAFKA_HEARTBEAT_INTERVAL_MS']);
  });
});
