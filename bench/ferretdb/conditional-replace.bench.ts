/**
 * One state change on the test FerretDB, in both shapes (issue 18), in one run:
 *
 * - the MongoDB idiom: one conditional `replaceOne({ _id, version: n }, next)`;
 * - what `MongoInteractionRepository.commit` does instead: insert the history entry under a unique
 *   `_id` (the claim), replace the current document by `_id` alone, look for a newer history entry.
 *
 * For each shape: speed (sequential, p50/p99, changes/s) and whether it holds under a race — two
 * writers of the same version at once, BENCH_RACES times: how often both were told they won.
 *
 *   npx nx run bench:ferretdb-conditional        (BENCH_SIZE=2000 BENCH_OPS=200 BENCH_RACES=200)
 *
 * FerretDB comes from tools/test-infra unless MAILROUTE_TEST_MONGODB_URL names a running one.
 */
import path from 'node:path';
import { MongoClient, MongoServerError, type Collection } from 'mongodb';
import { workspaceRoot } from '@mailroute/testing';

const size = Number(process.env['BENCH_SIZE'] ?? 2000);
const ops = Number(process.env['BENCH_OPS'] ?? 200);
const races = Number(process.env['BENCH_RACES'] ?? 200);

interface Doc {
  _id: string;
  version: number;
  body: string;
  writer?: string;
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const isDuplicateKey = (error: unknown) => error instanceof MongoServerError && error.code === 11000;
const historyId = (id: string, version: number) => `${id}/${String(version).padStart(10, '0')}`;

/** The conditional replace: true when this writer's version n+1 replaced version n. */
async function conditionalChange(current: Collection<Doc>, id: string, from: number, writer: string): Promise<boolean> {
  const result = await current.replaceOne({ _id: id, version: from }, { version: from + 1, body: 'y'.repeat(1000), writer });
  return result.modifiedCount === 1;
}

/** The insert-claim commit (3 round trips): true when this writer's history insert won version n+1. */
async function insertClaimChange(
  current: Collection<Doc>,
  history: Collection<Doc>,
  id: string,
  from: number,
  writer: string,
): Promise<boolean> {
  const next = { version: from + 1, body: 'y'.repeat(1000), writer };
  try {
    await history.insertOne({ _id: historyId(id, from + 1), ...next });
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
  await current.replaceOne({ _id: id }, next, { upsert: true });
  await history.findOne({ _id: historyId(id, from + 2) });
  return true;
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
  const client = new MongoClient(url, { maxPoolSize: 8 });
  await client.connect();
  const db = client.db(`bench-ferretdb-conditional-${Date.now()}`);
  const current = db.collection<Doc>('current');
  const history = db.collection<Doc>('history');
  try {
    for (let i = 0; i < size; i += 1000) {
      const docs = Array.from({ length: Math.min(1000, size - i) }, (_, j) => ({
        _id: `tenant/ix-${i + j}`,
        version: 1,
        body: 'x'.repeat(1000),
      }));
      await current.insertMany(docs);
      await history.insertMany(docs.map((d) => ({ ...d, _id: historyId(d._id, 1) })));
    }
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // the test wrapper adds its `_id` index within a second or two
    process.stdout.write(
      `FerretDB: one state change, ${size} documents of ~1 KB, ${ops} sequential changes per row; races: ${races} pairs of writers of one version\n`,
    );
    process.stdout.write(
      `${'shape'.padEnd(52)} ${'trips'.padStart(5)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'changes/s'.padStart(10)} ${'both won'.padStart(9)}\n`,
    );
    const versions = new Map<string, number>();
    const key = (n: number) => `tenant/ix-${Math.floor((n * 7919) % size)}`;
    const shapes: Array<[string, number, (id: string, from: number, writer: string) => Promise<boolean>]> = [
      [
        'replaceOne {_id} (no condition: not a safe change)',
        1,
        (id, from) => current.replaceOne({ _id: id }, { version: from + 1, body: 'y'.repeat(1000) }).then(() => true),
      ],
      ['replaceOne {_id, version} (the MongoDB idiom)', 1, (id, from, writer) => conditionalChange(current, id, from, writer)],
      [
        'history insert + replaceOne {_id} + findOne (today)',
        3,
        (id, from, writer) => insertClaimChange(current, history, id, from, writer),
      ],
    ];
    let raceBase = 0;
    for (const [label, trips, change] of shapes) {
      const times: number[] = [];
      const started = performance.now();
      for (let n = 0; n < ops; n += 1) {
        const id = key(n);
        const from = versions.get(id) ?? 1;
        const t = performance.now();
        if (await change(id, from, 'solo')) versions.set(id, from + 1);
        times.push(performance.now() - t);
      }
      const seconds = (performance.now() - started) / 1000;
      times.sort((a, b) => a - b);
      // Races on documents nobody else touches: both writers read version `from`, both try `from + 1`.
      let bothWon = 0;
      for (let r = 0; r < races; r += 1) {
        const id = `tenant/race-${raceBase + r}`;
        await current.insertOne({ _id: id, version: 1, body: 'x'.repeat(1000) });
        const [a, b] = await Promise.all([change(id, 1, 'a'), change(id, 1, 'b')]);
        if (a && b) bothWon += 1;
      }
      raceBase += races;
      process.stdout.write(
        `${label.padEnd(52)} ${String(trips).padStart(5)} ${percentile(times, 50).toFixed(1).padStart(8)} ${percentile(times, 99).toFixed(1).padStart(8)} ${(ops / seconds).toFixed(0).padStart(10)} ${`${bothWon}/${races}`.padStart(9)}\n`,
      );
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
