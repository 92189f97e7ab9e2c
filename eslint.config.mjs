// Lint for the whole workspace. The module-boundary rule encodes the "may import" table of
// ARCHITECTURE.md: one depConstraint per row, keyed on each project's `scope:` tag.
import nx from '@nx/eslint-plugin';

/** I/O packages the pure domain must never touch. */
const ioPackages = [
  'kafkajs',
  'mongodb',
  '@grpc/*',
  '@azure/*',
  '@microsoft/*',
  'nice-grpc',
  'nice-grpc-*',
  '@opentelemetry/*',
  'pino',
];

/** One entry per row of the "may import" table, keyed on each project's `scope:` tag. */
const depConstraints = [
  { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:routing-engine', onlyDependOnLibsWithTags: ['scope:contracts'], bannedExternalImports: ioPackages },
  { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:contracts'] },
  { sourceTag: 'scope:messaging', onlyDependOnLibsWithTags: ['scope:platform', 'scope:contracts'] },
  { sourceTag: 'scope:persistence', onlyDependOnLibsWithTags: ['scope:platform', 'scope:contracts'] },
  { sourceTag: 'scope:graph-mail', onlyDependOnLibsWithTags: ['scope:platform'] },
  // "testing may import anything": every lib, and the graph sandbox it starts for tests.
  { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:emulator'] },
  // Libs never import apps (Nx refuses app imports outright) nor the emulator or test helpers.
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  // The graph sandbox's code (libs/graph-sandbox) builds on libs only.
  { sourceTag: 'type:emulator', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:emulator'] },
  // The four services ship to production: never the emulator, never the test helpers. Checked on
  // their own imports (onlyDependOn…), not transitively: libs' spec files use the test helpers, and
  // the project graph counts those, so a transitive ban would forbid every lib with tests.
  { sourceTag: 'runtime:production', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:testing', 'type:emulator'] },
];

/**
 * Specs may also use the test helpers and contract suites of libs/testing. The suites depend on the
 * ports they test, so testing ⇄ messaging/persistence is a cycle through spec files only; it is
 * the one cycle allowed.
 */
const specDepConstraints = depConstraints.map((constraint) => ({
  ...constraint,
  ...(constraint.onlyDependOnLibsWithTags && constraint.sourceTag !== 'scope:contracts'
    ? {
        onlyDependOnLibsWithTags: [
          ...new Set([
            ...constraint.onlyDependOnLibsWithTags,
            'scope:testing',
            // A production service's integration specs start the graph sandbox.
            ...(constraint.sourceTag === 'runtime:production' ? ['type:emulator'] : []),
          ]),
        ],
      }
    : {}),
  ...(constraint.notDependOnLibsWithTags
    ? { notDependOnLibsWithTags: constraint.notDependOnLibsWithTags.filter((tag) => tag !== 'scope:testing') }
    : {}),
}));

const boundaries = (constraints, ignoredCircularDependencies = []) => ({
  enforceBuildableLibDependency: true,
  banTransitiveDependencies: false,
  allow: [],
  depConstraints: constraints,
  ignoredCircularDependencies,
});

export default [
  {
    ignores: [
      '**/node_modules',
      '**/dist',
      '**/.cache',
      '**/.nx',
      '**/tmp',
      '**/coverage',
      '**/jest.config.cjs',
      'jest.preset.cjs',
    ],
  },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(depConstraints)],
      // A lib's public API is its src/index.ts: `@mailroute/<lib>/<anything>` is a deep import.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@mailroute/*/**'],
              message: 'Deep import: import the lib by its name (its src/index.ts), e.g. @mailroute/platform.',
            },
          ],
        },
      ],
    },
  },
  {
    // The all-in-one host runs the four services in one process (the embedded default): the one
    // project that may import apps, and only their composition roots (src/service.ts of each).
    files: ['apps/mailroute/src/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          ...boundaries(depConstraints),
          allow: [
            '@mailroute/auth-broker-service',
            '@mailroute/mailbox-fetch-service',
            '@mailroute/interaction-router-service',
            '@mailroute/outbound-send-service',
            '@mailroute/web-gateway-service',
          ],
        },
      ],
    },
  },
  {
    // Test and bench support outside production folders (an app's test/: harnesses, simulators, fixtures; its bench/: bench bodies) is held to the spec rules.
    files: ['**/*.spec.ts', 'apps/*/test/**/*.ts', 'apps/*/bench/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        boundaries(specDepConstraints, [
          ['testing', 'messaging'],
          ['testing', 'persistence'],
        ]),
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'libs/testing/src/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        boundaries(specDepConstraints, [
          ['testing', 'messaging'],
          ['testing', 'persistence'],
        ]),
      ],
    },
  },
  {
    // "No I/O, no clocks": the routing engine takes time as a parameter and touches no node built-in.
    files: ['libs/routing-engine/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@mailroute/*/**'], message: 'Deep import: import the lib by its name.' },
            {
              group: ['node:*', 'fs', 'net', 'http', 'https', 'child_process', 'dgram', 'tls'],
              message: 'routing-engine is pure: no I/O.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'routing-engine has no clock: pass the time in.' },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // A lib's public face is a list a reader can see (CONVENTIONS 3). The generated contracts barrel is
    // exempt: it re-exports ts-proto's output file by file, and the list is whatever proto/ defines.
    files: ['libs/*/src/index.ts'],
    ignores: ['libs/contracts/src/index.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: "A lib's index exports named symbols: `export { a, type B } from './x'`." },
      ],
    },
  },
  {
    files: ['libs/contracts/src/generated/**/*.ts', 'libs/contracts/src/index.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': 'off',
      '@typescript-eslint/consistent-type-imports': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-empty-interface': 'off',
      '@typescript-eslint/no-empty-object-type': 'off',
      '@typescript-eslint/no-namespace': 'off',
    },
  },
];
