const { createJestConfig } = require('../../jest.preset.cjs');

module.exports = createJestConfig(__dirname, { testTimeout: 60_000 });
