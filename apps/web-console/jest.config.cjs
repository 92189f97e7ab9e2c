const { createJestConfig } = require('../../jest.preset.cjs');

// Unit specs of the console's pure modules, and the browser tests (test/*.browser.int.spec.ts) that drive
// real Chromium against the built console, the web gateway, the router and the graph sandbox.
module.exports = createJestConfig(__dirname, {
  globalSetup: '<rootDir>/../../libs/testing/jest/global-setup.cjs',
  globalTeardown: '<rootDir>/../../libs/testing/jest/global-teardown.cjs',
  testTimeout: 300_000,
});
