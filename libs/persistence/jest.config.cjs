const { createJestConfig } = require('../../jest.preset.cjs');

module.exports = createJestConfig(__dirname, {
  globalSetup: '<rootDir>/../testing/jest/global-setup.cjs',
  globalTeardown: '<rootDir>/../testing/jest/global-teardown.cjs',
  testTimeout: 120_000,
});
