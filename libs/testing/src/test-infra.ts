/** Environment variables through which the test runner hands the real servers to the suites. */
export const testInfraEnv = {
  kafkaBrokers: 'MAILROUTE_TEST_KAFKA_BROKERS',
  mongoUrl: 'MAILROUTE_TEST_MONGODB_URL',
} as const;

export interface TestInfra {
  /** `127.0.0.1:port` of the real Apache Kafka broker. */
  kafkaBrokers: string[];
  /** `mongodb://127.0.0.1:port/` of the real MongoDB wire-protocol server (FerretDB). */
  mongoUrl: string;
}

/**
 * The real Kafka broker and MongoDB-compatible server started for this test run (by the jest
 * global setup or `npm test`). Fails loudly if they are missing: an integration suite never
 * silently skips.
 */
export function testInfra(): TestInfra {
  const brokers = process.env[testInfraEnv.kafkaBrokers];
  const mongoUrl = process.env[testInfraEnv.mongoUrl];
  if (!brokers || !mongoUrl) {
    throw new Error(
      `integration tests need ${testInfraEnv.kafkaBrokers} and ${testInfraEnv.mongoUrl}; ` +
        'run them through `npm test` or a jest config with the @mailroute/testing global setup',
    );
  }
  return { kafkaBrokers: brokers.split(','), mongoUrl };
}
