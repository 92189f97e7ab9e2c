// Starts the real Kafka broker and FerretDB once for a jest run, unless the caller (npm test) has
// already started them and passed their addresses in the environment.
const path = require('node:path');

const env = { kafka: 'MAILROUTE_TEST_KAFKA_BROKERS', mongo: 'MAILROUTE_TEST_MONGODB_URL' };

module.exports = async function globalSetup() {
  if (process.env[env.kafka] && process.env[env.mongo]) return;
  const infra = await import(path.join(__dirname, '../../../tools/test-infra/index.mjs'));
  const state = await infra.startAll();
  globalThis.__MAILROUTE_TEST_INFRA__ = state;
  process.env[env.kafka] = state.kafka.brokers;
  process.env[env.mongo] = state.ferretdb.url;
};
