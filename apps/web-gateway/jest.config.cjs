const { createJestConfig } = require('../../jest.preset.cjs');

module.exports = createJestConfig(__dirname, {
  globalSetup: '<rootDir>/../../libs/testing/jest/global-setup.cjs',
  globalTeardown: '<rootDir>/../../libs/testing/jest/global-teardown.cjs',
  testTimeout: 180_000,
});
