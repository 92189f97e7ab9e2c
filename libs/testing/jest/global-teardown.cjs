// Stops, by pid, whatever global-setup.cjs started in this jest run.
const path = require('node:path');

module.exports = async function globalTeardown() {
  const state = globalThis.__MAILROUTE_TEST_INFRA__;
  if (!state) return;
  const infra = await import(path.join(__dirname, '../../../tools/test-infra/index.mjs'));
  await infra.stopAll(state);
};
