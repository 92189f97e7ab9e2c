import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedDocumentTable, EmbeddedStore } from '@mailroute/persistence';
import { createLogger } from '@mailroute/platform';
import type { ReplicaRecord } from '../store/outbound-send.stores';
import { createReplicaPresence } from './replica-presence';

describe('replica presence (who may take over a stranded attempt)', () => {
  const logger = createLogger({ name: 'presence-test', level: 'silent' });
  let dir: string;
  let store: EmbeddedStore;
  let table: EmbeddedDocumentTable<ReplicaRecord>;
  let now = 1_000_000;
  const clock = () => now;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'os-presence-'));
    store = new EmbeddedStore({ path: path.join(dir, 'os.db') });
    table = new EmbeddedDocumentTable<ReplicaRecord>(store, 'os_replicas');
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const presence = (replicaId: string) => createReplicaPresence({ table, replicaId, logger, clock, options: { deadAfterMs: 30_000 } });

  it('keeps a live owner\'s attempt and gives it up once its heartbeat is older than deadAfterMs', async () => {
    const owner = presence('a');
    const other = presence('b');
    await owner.start();
    const marker = { owner: 'a', instance: owner.instanceId, at: now };
    expect(await other.isGone(marker, now)).toBe(false);
    now += 29_000;
    expect(await other.isGone(marker, now)).toBe(false);
    now += 2_000;
    expect(await other.isGone(marker, now)).toBe(true);
    await owner.stop();
  });

  it('knows at once an owner that stopped cleanly or restarted under the same replica id', async () => {
    const first = presence('a');
    const other = presence('b');
    await first.start();
    const marker = { owner: 'a', instance: first.instanceId, at: now };
    await first.stop();
    expect(await other.isGone(marker, now)).toBe(true);

    const restarted = presence('a');
    await restarted.start();
    expect(await other.isGone(marker, now)).toBe(true);
    expect(await other.isGone({ owner: 'a', instance: restarted.instanceId, at: now }, now)).toBe(false);
    await restarted.stop();
  });

  it('leaves an owner it knows nothing about to the marker\'s staleness', async () => {
    expect(await presence('b').isGone({ owner: 'never-seen', instance: 'x', at: now }, now)).toBe(false);
  });

  it('is fresh only while its own heartbeat is recent (a replica that cannot beat sends nothing)', async () => {
    const self = presence('a');
    expect(self.isFresh(now)).toBe(false);
    await self.start();
    expect(self.isFresh(now + 14_000)).toBe(true);
    expect(self.isFresh(now + 16_000)).toBe(false);
    await self.stop();
  });
});
