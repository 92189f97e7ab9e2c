import { EmbeddedDocumentTable } from '../embedded/embedded-document-table';
import { EmbeddedStore } from '../embedded/embedded-store';
import { documentTableOperationKinds } from './port-operation-kinds';
import { countingPort, StoreOperationCounter, withStoreStep, withStoreSteps } from './store-operations';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('StoreOperationCounter and countingPort', () => {
  it('counts each port call by kind under the step that made it, across awaits and unawaited work', async () => {
    const store = new EmbeddedStore({ path: ':memory:' });
    const counter = new StoreOperationCounter();
    const table = countingPort(new EmbeddedDocumentTable<{ n: number }>(store, 'things'), counter, documentTableOperationKinds);
    try {
      await withStoreStep('intake', async () => {
        await tick();
        expect(await table.insert('t/1', { n: 1 })).toBe(true);
        await table.put('t/1', { n: 2 });
        void table.get('t/1'); // not awaited: still the intake's
      });
      await withStoreStep('complete', async () => {
        await withStoreStep('inner', () => table.list({ prefix: 't/', limit: 10 }));
        expect(await table.delete('t/1')).toBe(true);
      });
      await table.get('t/1');

      expect(Object.fromEntries(counter.byStep())).toEqual({
        complete: { read: 0, insert: 0, update: 0, delete: 1, total: 1 },
        inner: { read: 1, insert: 0, update: 0, delete: 0, total: 1 },
        intake: { read: 1, insert: 1, update: 1, delete: 0, total: 3 },
        other: { read: 1, insert: 0, update: 0, delete: 0, total: 1 },
      });
      expect(counter.totals()).toEqual({ read: 3, insert: 1, update: 1, delete: 1, total: 6 });
      counter.reset();
      expect(counter.totals().total).toBe(0);
    } finally {
      store.close();
    }
  });

  it('runs handler methods, server streams included, as their step', async () => {
    const counter = new StoreOperationCounter();
    const handlers = withStoreSteps(
      {
        unary: async () => {
          await tick();
          counter.record('update');
          return 'done';
        },
        async *stream() {
          for (let i = 0; i < 2; i += 1) {
            await tick();
            counter.record('read');
            yield i;
          }
        },
      },
      (method) => (method === 'stream' ? 'heartbeat' : 'accept'),
    );
    expect(await handlers.unary()).toBe('done');
    const seen: number[] = [];
    // The consumer iterates from outside any step, as the gRPC server does.
    for await (const value of handlers.stream()) {
      seen.push(value);
      counter.record('insert'); // the consumer's own work is not the stream's
    }
    expect(seen).toEqual([0, 1]);
    expect(Object.fromEntries(counter.byStep())).toEqual({
      accept: { read: 0, insert: 0, update: 1, delete: 0, total: 1 },
      heartbeat: { read: 2, insert: 0, update: 0, delete: 0, total: 2 },
      other: { read: 0, insert: 2, update: 0, delete: 0, total: 2 },
    });
  });
});
