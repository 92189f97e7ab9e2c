/**
 * `_id` operations on the test FerretDB as a collection grows: the services keep their hot paths on
 * `_id` (see tools/test-infra/README.md, "the `_id` index FerretDB's queries can use"). Baseline in
 * the same run: the same lookup with a second, always-true condition (`version >= 0`), which FerretDB
 * v1 cannot push down — every such operation reads the whole collection, as every `_id` operation
 * did before the wrapper's index.
 *
 *   npx nx run bench:ferretdb-id        (BENCH_SIZES=100,2000,10000 BENCH_OPS=200)
 *
 * FerretDB comes from tools/test-infra unless MAILROUTE_TEST_MONGODB_URL names a running one.
 */
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { workspaceRoot } from '@mailroute/testing';

const sizes = (process.env['BENCH_SIZES'] ?? '100,2000,10000').split(',').map(Number);
const ops = Number(process.env['BENCH_OPS'] ?? 200);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function main(): Promise<void> {
  let url = process.env['MAILROUTE_TEST_MONGODB_URL'];
  let stop: (() => Promise<void>) | undefined;
  if (!url) {
    const infra = (await import(path.join(workspaceRoot, 'tools/test-infra/index.mjs'))) as {
      startFerretDb(): Promise<{ url: string; pid: number }>;
      stopProcess(pid: number, options?: { timeoutMs?: number }): Promise<void>;
    };
    const ferret = await infra.startFerretDb();
    url = ferret.url;
    stop = () => infra.stopProcess(ferret.pid, { timeoutMs: 5_000 });
  }
  const client = new MongoClient(url, { maxPoolSize: 4 });
  await client.connect();
  const db = client.db(`bench-ferretdb-id-${Date.now()}`);
  process.stdout.write(`FerretDB _id operations — ${ops} sequential operations per row, documents of ~1 KB\n`);
  process.stdout.write(
    `${'documents'.padStart(9)}  ${'operation'.padEnd(34)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'ops/s'.padStart(8)}\n`,
  );
  try {
    for (const size of sizes) {
      const collection = db.collection<{ _id: string; version: number; body: string }>(`docs_${size}`);
      for (let i = 0; i < size; i += 1000) {
        await collection.insertMany(
          Array.from({ length: Math.min(1000, size - i) }, (_, j) => ({
            _id: `tenant/ix-${i + j}`,
            version: 1,
            body: 'x'.repeat(1000),
          })),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 2_500)); // the wrapper adds its index within a second or two
      const key = (n: number) => `tenant/ix-${Math.floor((n * 7919) % size)}`; // spread over the whole collection
      const rows: Array<[string, (n: number) => Promise<unknown>, number]> = [
        ['findOne {_id} (hit)', (n) => collection.findOne({ _id: key(n) }), ops],
        ['findOne {_id} (miss)', (n) => collection.findOne({ _id: `tenant/none-${n}` }), ops],
        ['replaceOne {_id}', (n) => collection.replaceOne({ _id: key(n) }, { version: 2, body: 'y'.repeat(1000) }), ops],
        [
          'baseline: replaceOne {_id, version}',
          (n) => collection.replaceOne({ _id: key(n), version: { $gte: 0 } }, { version: 3, body: 'z'.repeat(1000) }),
          Math.max(10, Math.round(ops / 10)),
        ],
      ];
      for (const [label, operation, count] of rows) {
        const times: number[] = [];
        const started = performance.now();
        for (let n = 0; n < count; n += 1) {
          const t = performance.now();
          await operation(n);
          times.push(performance.now() - t);
        }
        const seconds = (performance.now() - started) / 1000;
        times.sort((a, b) => a - b);
        process.stdout.write(
          `${String(size).padStart(9)}  ${label.padEnd(34)} ${percentile(times, 50).toFixed(1).padStart(8)} ${percentile(times, 99).toFixed(1).padStart(8)} ${(count / seconds).toFixed(0).padStart(8)}\n`,
        );
      }
    }
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
    await stop?.();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
