import { createHash, randomBytes } from 'node:crypto';
import { BlobNotFoundError, type BlobStore } from '@mailroute/persistence';
import type { RepositoryContractOptions } from './repository-contract';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function readAll(source: AsyncIterable<Buffer>): Promise<{ data: Buffer; chunks: number[] }> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return { data: Buffer.concat(parts), chunks: parts.map((part) => part.length) };
}

async function* pieces(data: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let start = 0; start < data.length; start += size) yield data.subarray(start, start + size);
}

/** The behaviour every BlobStore adapter must have. */
export function describeBlobStoreContract(name: string, options: RepositoryContractOptions<BlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let blobs: BlobStore;
    let close: () => Promise<void>;

    beforeEach(async () => {
      ({ repository: blobs, close } = await options.create());
    });
    afterEach(async () => {
      await close();
    });

    it('stores streamed content and reads it back byte for byte, in chunks of at most the asked size', async () => {
      const data = randomBytes(3 * 1024 * 1024 + 123);
      const info = await blobs.put('t1/a', pieces(data, 64 * 1024 + 7), { name: 'report.pdf', contentType: 'application/pdf' });
      expect(info).toMatchObject({ key: 't1/a', name: 'report.pdf', contentType: 'application/pdf', sizeBytes: data.length });
      expect(info.sha256).toBe(sha256(data));
      expect(await blobs.stat('t1/a')).toMatchObject({ sizeBytes: data.length, sha256: sha256(data), name: 'report.pdf' });
      const read = await readAll(blobs.read('t1/a', { chunkBytes: 1024 * 1024 }));
      expect(read.data.equals(data)).toBe(true);
      expect(Math.max(...read.chunks)).toBeLessThanOrEqual(1024 * 1024);
    });

    it('stores an empty blob and a blob given as one buffer', async () => {
      await blobs.put('t1/empty', new Uint8Array(0), { name: 'e', contentType: 'text/plain' });
      expect((await readAll(blobs.read('t1/empty'))).data.length).toBe(0);
      expect((await blobs.stat('t1/empty'))?.sha256).toBe(sha256(new Uint8Array(0)));
      const data = Buffer.from('hello');
      await blobs.put('t1/b', data, { name: 'b.txt', contentType: 'text/plain' });
      expect((await readAll(blobs.read('t1/b'))).data.toString()).toBe('hello');
    });

    it('answers unknown keys with undefined and BlobNotFoundError', async () => {
      expect(await blobs.stat('t1/none')).toBeUndefined();
      await expect(readAll(blobs.read('t1/none'))).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await blobs.delete('t1/none')).toBe(false);
      expect(await blobs.setExpiry('t1/none', undefined)).toBe(false);
    });

    it('leaves nothing behind when the source fails mid-write', async () => {
      async function* failing(): AsyncIterable<Uint8Array> {
        yield randomBytes(2 * 1024 * 1024);
        throw new Error('client went away');
      }
      await expect(blobs.put('t1/broken', failing(), { name: 'x', contentType: 'x/y' })).rejects.toThrow('client went away');
      expect(await blobs.stat('t1/broken')).toBeUndefined();
    });

    it('replaces a blob written again under the same key', async () => {
      await blobs.put('t1/r', Buffer.from('first'), { name: 'one', contentType: 'text/plain' });
      await blobs.put('t1/r', Buffer.from('second!'), { name: 'two', contentType: 'text/plain' });
      expect(await blobs.stat('t1/r')).toMatchObject({ name: 'two', sizeBytes: 7 });
      expect((await readAll(blobs.read('t1/r'))).data.toString()).toBe('second!');
      expect(await blobs.delete('t1/r')).toBe(true);
      expect(await blobs.stat('t1/r')).toBeUndefined();
    });

    it('deletes expired blobs only, never one whose expiry was cleared, and follows a changed expiry', async () => {
      const now = new Date('2026-12-01T12:00:00.000Z');
      await blobs.put('t1/old', Buffer.from('o'), { name: 'o', contentType: 'x/y', expiresAt: new Date(now.getTime() - 1) });
      await blobs.put('t1/kept', Buffer.from('k'), { name: 'k', contentType: 'x/y', expiresAt: new Date(now.getTime() - 1) });
      await blobs.put('t1/later', Buffer.from('l'), {
        name: 'l',
        contentType: 'x/y',
        expiresAt: new Date(now.getTime() + 60_000),
      });
      await blobs.put('t1/forever', Buffer.from('f'), { name: 'f', contentType: 'x/y' });
      expect(await blobs.setExpiry('t1/kept', undefined)).toBe(true);
      expect((await blobs.stat('t1/kept'))?.expiresAt).toBeUndefined();
      await blobs.setExpiry('t1/later', new Date(now.getTime() + 30_000));
      expect((await blobs.stat('t1/later'))?.expiresAt).toEqual(new Date(now.getTime() + 30_000));
      expect(await blobs.deleteExpired(now)).toEqual(['t1/old']);
      expect(await blobs.stat('t1/old')).toBeUndefined();
      for (const key of ['t1/kept', 't1/later', 't1/forever']) expect(await blobs.stat(key)).toBeDefined();
      expect(await blobs.deleteExpired(new Date(now.getTime() + 60_000))).toEqual(['t1/later']);
    });
  });
}
