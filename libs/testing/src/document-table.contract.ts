import type { DocumentTable } from '@mailroute/persistence';
import type { RepositoryContractOptions } from './repository-contract';

interface SampleDocument {
  name: string;
  at: Date;
  nested: { count: number };
}

/** The behaviour every DocumentTable adapter must have. */
export function describeDocumentTableContract(
  name: string,
  options: RepositoryContractOptions<DocumentTable<SampleDocument>>,
): void {
  describe(`DocumentTable contract: ${name}`, () => {
    let table: DocumentTable<SampleDocument>;
    let close: () => Promise<void>;
    const at = new Date('2026-11-01T10:00:00.000Z');

    beforeEach(async () => {
      ({ repository: table, close } = await options.create());
    });
    afterEach(async () => {
      await close();
    });

    it('stores a document and reads it back exactly, dates included', async () => {
      await table.put('t1/a', { name: 'a', at, nested: { count: 1 } });
      const read = await table.get('t1/a');
      expect(read).toEqual({ name: 'a', at, nested: { count: 1 } });
      expect(read?.at).toBeInstanceOf(Date);
      expect(await table.get('t1/b')).toBeUndefined();
    });

    it('reads back undefined fields as absent, not null', async () => {
      await table.put('u', { name: 'u', at, nested: { count: 1 }, optional: undefined } as SampleDocument);
      const read = (await table.get('u')) as unknown as Record<string, unknown>;
      expect(read['optional']).toBeUndefined();
      expect('optional' in read).toBe(false);
    });

    it('lets the last put win', async () => {
      await table.put('k', { name: 'first', at, nested: { count: 1 } });
      await table.put('k', { name: 'second', at, nested: { count: 2 } });
      expect((await table.get('k'))?.name).toBe('second');
    });

    it('inserts only into a free key, and of concurrent inserts exactly one wins', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => table.insert('race', { name: `w${i}`, at, nested: { count: i } })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await table.get('race'))?.name).toBe(`w${winner}`);
    });

    it('survives concurrent puts of a missing key (last writer wins, no error)', async () => {
      await Promise.all(Array.from({ length: 8 }, (_, i) => table.put('upsert', { name: `w${i}`, at, nested: { count: i } })));
      expect((await table.get('upsert'))?.name).toMatch(/^w\d$/);
    });

    it('lists a prefix in key order with keyset pagination, and nothing of other prefixes', async () => {
      for (const key of ['t1/c', 't1/a', 't1/b', 't10/a', 't0/z', 't1-x/a'])
        await table.put(key, { name: key, at, nested: { count: 0 } });
      const first = await table.list({ prefix: 't1/', limit: 2 });
      expect(first.map((entry) => entry.key)).toEqual(['t1/a', 't1/b']);
      const second = await table.list({ prefix: 't1/', after: 't1/b', limit: 2 });
      expect(second.map((entry) => entry.key)).toEqual(['t1/c']);
      expect(second[0]?.document.name).toBe('t1/c');
      expect((await table.list({ prefix: 't1/', after: 't0/z', limit: 10 })).map((entry) => entry.key)).toEqual([
        't1/a',
        't1/b',
        't1/c',
      ]);
    });

    it('deletes one key, and every key of a prefix', async () => {
      for (const key of ['p/a', 'p/b', 'q/a']) await table.put(key, { name: key, at, nested: { count: 0 } });
      expect(await table.delete('p/a')).toBe(true);
      expect(await table.delete('p/a')).toBe(false);
      await table.put('p/c', { name: 'p/c', at, nested: { count: 0 } });
      expect(await table.deletePrefix('p/')).toBe(2);
      expect(await table.list({ prefix: 'p/', limit: 10 })).toEqual([]);
      expect(await table.get('q/a')).toBeDefined();
    });

    it('deletes a list of keys at once, counting only those that existed', async () => {
      for (const key of ['m/a', 'm/b', 'm/c']) await table.put(key, { name: key, at, nested: { count: 0 } });
      expect(await table.deleteMany(['m/a', 'm/c', 'm/missing'])).toBe(2);
      expect((await table.list({ prefix: 'm/', limit: 10 })).map((entry) => entry.key)).toEqual(['m/b']);
      expect(await table.deleteMany([])).toBe(0);
    });
  });
}
