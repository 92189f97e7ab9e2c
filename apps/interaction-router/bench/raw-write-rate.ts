// The store's raw single-document write rate, measured in the bench's own run (same machine, same load):
// `count` puts of a small document under distinct keys (MongoDB: `replaceOne({ _id }, …, { upsert: true })`;
// embedded: one SQLite upsert), `concurrency` at a time, on a scratch table in the router's database.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedDocumentTable, EmbeddedStore, MongoDocumentTable, MongoStore, type DocumentTable } from '@mailroute/persistence';

export interface RawWriteRate {
  writesPerSecond: number;
  count: number;
  concurrency: number;
}

export async function measureRawWriteRate(
  store: { kind: 'mongodb'; url: string; database: string } | { kind: 'embedded' },
  count: number,
  concurrency: number,
): Promise<RawWriteRate> {
  const opened =
    store.kind === 'mongodb'
      ? await MongoStore.connect({ url: store.url, database: store.database, appName: 'router-bench-raw' }).then((mongo) => ({
          table: new MongoDocumentTable<{ n: number; at: number }>(mongo, 'bench_raw_writes') as DocumentTable<{
            n: number;
            at: number;
          }>,
          close: () => mongo.close(),
        }))
      : (() => {
          const embedded = new EmbeddedStore({
            path: path.join(mkdtempSync(path.join(tmpdir(), 'router-bench-raw-')), 'raw.sqlite'),
          });
          return {
            table: new EmbeddedDocumentTable<{ n: number; at: number }>(embedded, 'bench_raw_writes'),
            close: async () => embedded.close(),
          };
        })();
  try {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let n = next++; n < count; n = next++) await opened.table.put(`raw/${n}`, { n, at: Date.now() });
      }),
    );
    return { writesPerSecond: count / ((performance.now() - started) / 1000), count, concurrency };
  } finally {
    await opened.close();
  }
}
