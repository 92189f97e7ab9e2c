import { createHash, randomBytes } from 'node:crypto';
import { describeBlobStoreContract, randomId, testInfra } from '@mailroute/testing';
import { MongoBlobStore, MongoStore } from '../index';

async function openStore() {
  return MongoStore.connect({ url: testInfra().mongoUrl, database: randomId('blobs'), appName: 'persistence-test' });
}

describeBlobStoreContract('MongoDB GridFS (FerretDB over TCP)', {
  create: async () => {
    const store = await openStore();
    return {
      repository: new MongoBlobStore(store),
      close: async () => {
        await store.db.dropDatabase().catch(() => undefined);
        await store.close();
      },
    };
  },
});

describe('MongoBlobStore', () => {
  it('stores a 40 MB blob as 1 MiB GridFS chunks (no document near the 16 MB limit) and reads it back whole', async () => {
    const store = await openStore();
    try {
      const blobs = new MongoBlobStore(store);
      const data = randomBytes(40 * 1024 * 1024);
      const info = await blobs.put('t1/big', data, { name: 'big.bin', contentType: 'application/octet-stream' });
      expect(info.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      const largest = await store.db
        .collection('blobs.chunks')
        .aggregate([{ $project: { size: { $binarySize: '$data' } } }, { $sort: { size: -1 } }, { $limit: 1 }])
        .toArray()
        .catch(() => undefined);
      if (largest) expect(largest[0]?.['size']).toBeLessThanOrEqual(1024 * 1024);
      expect(await store.db.collection('blobs.chunks').countDocuments()).toBe(40);
      const hash = createHash('sha256');
      for await (const chunk of blobs.read('t1/big')) hash.update(chunk);
      expect(hash.digest('hex')).toBe(info.sha256);
    } finally {
      await store.db.dropDatabase().catch(() => undefined);
      await store.close();
    }
  });
});
