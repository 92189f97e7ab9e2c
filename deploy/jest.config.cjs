const { createJestConfig } = require('../jest.preset.cjs');

// The production-build spec starts auth-broker against the real MongoDB-compatible server, which
// the libs/testing global setup starts unless `npm test` already did.
module.exports = createJestConfig(__dirname, {
  globalSetup: '<rootDir>/../libs/testing/jest/global-setup.cjs',
  globalTeardown: '<rootDir>/../libs/testing/jest/global-teardown.cjs',
  // First run installs kustomize (go install) and the schema validator (PyPI): about a minute.
  testTimeout: 240_000,
});
