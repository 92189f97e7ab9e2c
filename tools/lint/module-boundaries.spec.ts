import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * The boundaries of ARCHITECTURE.md's "may import" table are enforced by lint. These cases lint
 * source text as if it sat in a given project, with the workspace's real ESLint config and project
 * graph, and expect the specific rule to fire (or not).
 */
const workspaceRoot = path.resolve(__dirname, '..', '..');
const eslintBin = path.join(workspaceRoot, 'node_modules', 'eslint', 'bin', 'eslint.js');

/** Lints `code` with the ESLint CLI as though it were the file `file` (nothing is written). */
async function lint(file: string, code: string): Promise<{ ruleId: string | null; message: string }[]> {
  const run = spawnSync(process.execPath, [eslintBin, '--format', 'json', '--stdin', '--stdin-filename', file], {
    cwd: workspaceRoot,
    input: code,
    encoding: 'utf8',
  });
  if (run.status !== 0 && run.status !== 1) throw new Error(`eslint failed (${run.status}): ${run.stderr}`);
  const [result] = JSON.parse(run.stdout) as { messages: { ruleId: string | null; message: string }[] }[];
  return (result?.messages ?? []).map(({ ruleId, message }) => ({ ruleId, message }));
}

describe('module boundaries', () => {
  it('fails a lib that imports an app', async () => {
    const messages = await lint(
      'libs/messaging/src/lint-fixture.ts',
      "import { main } from '../../../apps/auth-broker/src/config';\nexport const x = main;\n",
    );
    expect(messages).toContainEqual(expect.objectContaining({ ruleId: '@nx/enforce-module-boundaries' }));
  });

  it('fails routing-engine importing an I/O package', async () => {
    for (const source of [
      "import { Kafka } from 'kafkajs';\nexport const k = Kafka;\n",
      "import { MongoClient } from 'mongodb';\nexport const m = MongoClient;\n",
    ]) {
      const messages = await lint('libs/routing-engine/src/lint-fixture.ts', source);
      expect(messages).toContainEqual(
        expect.objectContaining({
          ruleId: '@nx/enforce-module-boundaries',
          message: expect.stringMatching(/"scope:routing-engine" is not allowed to import "(kafkajs|mongodb)"/),
        }),
      );
    }
  });

  it('fails routing-engine reading the clock or a node built-in', async () => {
    const messages = await lint(
      'libs/routing-engine/src/lint-fixture.ts',
      "import { readFileSync } from 'node:fs';\nexport const now = Date.now() + readFileSync.length;\n",
    );
    expect(messages.map((m) => m.ruleId)).toEqual(expect.arrayContaining(['no-restricted-imports', 'no-restricted-properties']));
  });

  it('fails a deep import into a lib', async () => {
    const messages = await lint(
      'apps/auth-broker/src/lint-fixture.ts',
      "import { redact } from '@mailroute/platform/src/redact';\nexport const r = redact;\n",
    );
    expect(messages).toContainEqual(
      expect.objectContaining({ ruleId: 'no-restricted-imports', message: expect.stringContaining('Deep import') }),
    );
  });

  it('fails a lib importing a lib its row of the table does not allow', async () => {
    const messages = await lint(
      'libs/platform/src/lint-fixture.ts',
      "import { KafkaEventBus } from '@mailroute/messaging';\nexport const b = KafkaEventBus;\n",
    );
    expect(messages).toContainEqual(expect.objectContaining({ ruleId: '@nx/enforce-module-boundaries' }));
  });

  it('fails an app importing the test helpers', async () => {
    const messages = await lint(
      'apps/auth-broker/src/lint-fixture.ts',
      "import { waitFor } from '@mailroute/testing';\nexport const w = waitFor;\n",
    );
    expect(messages).toContainEqual(expect.objectContaining({ ruleId: '@nx/enforce-module-boundaries' }));
  });

  it('fails a production service importing the graph sandbox', async () => {
    const messages = await lint(
      'apps/outbound-send/src/lint-fixture.ts',
      "import { createGraphSandbox } from '@mailroute/graph-sandbox';\nexport const g = createGraphSandbox;\n",
    );
    expect(messages).toContainEqual(expect.objectContaining({ ruleId: '@nx/enforce-module-boundaries' }));
  });

  it('passes a production service importing a lib whose own specs use the test helpers', async () => {
    const messages = await lint(
      'apps/auth-broker/src/lint-fixture.ts',
      "import { MongoStore } from '@mailroute/persistence';\nexport const s = MongoStore;\n",
    );
    expect(messages).toEqual([]);
  });

  it("passes a production service's spec starting the graph sandbox with the test helpers", async () => {
    const messages = await lint(
      'apps/auth-broker/src/lint-fixture.int.spec.ts',
      "import { createGraphSandbox } from '@mailroute/graph-sandbox';\nimport { waitFor } from '@mailroute/testing';\nexport const g = [createGraphSandbox, waitFor];\n",
    );
    expect(messages).toEqual([]);
  });

  it('passes the imports the table allows', async () => {
    const messages = await lint(
      'libs/messaging/src/lint-fixture.ts',
      "import { isRetryable } from '@mailroute/platform';\nexport const r = isRetryable;\n",
    );
    expect(messages).toEqual([]);
  });

  it("fails `export *` in a lib's index (its public face is a named list), not in the generated contracts barrel", async () => {
    const starred = await lint('libs/messaging/src/index.ts', "export * from './errors';\n");
    expect(starred).toContainEqual(expect.objectContaining({ ruleId: 'no-restricted-syntax' }));
    expect(await lint('libs/messaging/src/index.ts', "export { BusClosedError } from './errors';\n")).toEqual([]);
    const contracts = await lint('libs/contracts/src/index.ts', "export * from './generated/mailroute/v1/common';\n");
    expect(contracts).not.toContainEqual(expect.objectContaining({ ruleId: 'no-restricted-syntax' }));
  });
});

describe("test and bench code live outside src (an app's test/ and bench/ folders, held to the spec rules)", () => {
  // Test support as the router's harness and bench body are written: the shared test helpers plus a lib.
  const harness =
    "import { InProcessEventBus } from '@mailroute/messaging';\nimport { waitFor } from '@mailroute/testing';\nexport const h = [InProcessEventBus, waitFor];\n";

  it('fails a harness or bench body kept in production src/ (where the test helpers are off limits)', async () => {
    for (const file of [
      'apps/interaction-router/src/testing/router-harness.ts',
      'apps/interaction-router/src/metrics/queue-bench.ts',
    ]) {
      const messages = await lint(file, harness);
      expect(messages).toContainEqual(
        expect.objectContaining({
          ruleId: '@nx/enforce-module-boundaries',
          message: expect.stringContaining('can only depend on libs tagged with'),
        }),
      );
    }
  });

  it("passes the same code in the app's test/ and bench/ folders", async () => {
    for (const file of ['apps/interaction-router/test/router-harness.ts', 'apps/interaction-router/bench/queue-bench.ts']) {
      expect(await lint(file, harness)).toEqual([]);
    }
  });
});
