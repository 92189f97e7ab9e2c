// Shared jest settings for every project: TypeScript through SWC (type checking is the `typecheck`
// target's job), the @mailroute/* aliases of tsconfig.base.json, and node as the environment.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace('/', '\\/')}$`,
    path.join(__dirname, target),
  ]),
);

/** @returns {import('jest').Config} */
function createJestConfig(projectDir, overrides = {}) {
  return {
    displayName: path.relative(__dirname, projectDir),
    rootDir: projectDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/**/*.spec.ts'],
    testPathIgnorePatterns: ['/node_modules/', '/fixtures/'],
    moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
    moduleNameMapper,
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
          module: { type: 'commonjs' },
          sourceMaps: 'inline',
        },
      ],
    },
    testTimeout: 30_000,
    // Client libraries (kafkajs, the OpenTelemetry SDK) may keep timers after close; a run must end
    // when its tests have, never hang a CI job. Leaks are hunted with --detectOpenHandles instead.
    forceExit: true,
    ...overrides,
  };
}

module.exports = { createJestConfig };
