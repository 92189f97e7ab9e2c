import { createLogger } from '@mailroute/platform';
import { waitFor } from '@mailroute/testing';
import { mailboxKey, type MailboxRecord } from '../store/mailbox-fetch.records';
import { openEmbeddedStores, type MailboxFetchStores } from '../store/mailbox-fetch.stores';
import type { MailboxSync } from './mailbox-sync';
import { createSyncRuntime, type SyncRuntime } from './sync-runtime';

/** A sync that only records which replica ran a turn for which mailbox (the scheduling is under test). */
function recordingSync(replica: string, turns: { replica: string; key: string }[]): MailboxSync {
  return {
    async turn(mailbox) {
      turns.push({ replica, key: mailboxKey(mailbox.tenantId, mailbox.mailboxId) });
      return { complete: true, startedRound: true, phase: 'incremental', ingested: 0, backlog: 0 };
    },
    release: () => undefined,
    pendingPostProcessing: () => 0,
  };
}

function mailbox(index: number): MailboxRecord {
  return {
    tenantId: 'tenant-a',
    mailboxId: `box-${index}`,
    address: `box${index}@contoso.example`,
    displayName: '',
    kind: 0,
    accessMode: 1,
    credentialsId: 'default',
    folder: { wellKnownName: 'inbox' },
    postProcessingAction: 1,
    initialSyncMode: 1,
    backfillDays: 0,
    pollIntervalMs: 60_000,
    enabled: true,
    defaultQueueId: '',
    attachmentStorageLimitBytes: 0,
    folderGeneration: 1,
    syncFromAt: 0,
    createdAt: 0,
    updatedAt: 0,
    etag: 'e',
  };
}

describe("the sync runtime's ownership of mailboxes", () => {
  const logger = createLogger({ name: 'sync-runtime-spec', level: 'silent' });
  let stores: MailboxFetchStores;
  const runtimes: SyncRuntime[] = [];

  beforeEach(async () => {
    stores = openEmbeddedStores({ path: ':memory:' });
    for (let i = 0; i < 7; i += 1) await stores.mailboxes.insert(mailboxKey('tenant-a', `box-${i}`), mailbox(i));
  });
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
    await stores.close();
  });

  function start(replica: string, turns: { replica: string; key: string }[], maxMailboxes: number): SyncRuntime {
    const runtime = createSyncRuntime({
      stores,
      sync: recordingSync(replica, turns),
      logger,
      clock: Date.now,
      replicaId: replica,
      options: { leaseTtlMs: 2_000, scanIntervalMs: 20, pollIntervalCapMs: 20, maxMailboxes },
    });
    runtimes.push(runtime);
    runtime.start();
    return runtime;
  }

  it('never owns more than maxMailboxes, though acquisitions run in parallel', async () => {
    const turns: { replica: string; key: string }[] = [];
    const runtime = start('a', turns, 3);
    await waitFor(() => runtime.owned().length === 3, { timeoutMs: 5_000, description: '3 owned' });
    // Several more scans find four free mailboxes and a full replica.
    await waitFor(() => turns.length >= 6, { timeoutMs: 5_000 });
    expect(runtime.owned()).toHaveLength(3);
    expect(new Set(turns.map((turn) => turn.key)).size).toBe(3);
  });

  it("splits mailboxes between two replicas without overlap, and the survivor takes a stopped replica's mailboxes", async () => {
    const turns: { replica: string; key: string }[] = [];
    const a = start('a', turns, 4);
    const b = start('b', turns, 100);
    await waitFor(() => a.owned().length + b.owned().length === 7, { timeoutMs: 5_000, description: 'all owned' });
    expect(a.owned().filter((key) => b.owned().includes(key))).toEqual([]);
    const ownedByA = a.owned();
    await a.stop();
    await waitFor(() => b.owned().length === 7, { timeoutMs: 5_000, description: 'takeover of released leases' });
    const turnsOfA = turns.filter((turn) => turn.replica === 'a').map((turn) => turn.key);
    expect(turnsOfA.every((key) => ownedByA.includes(key))).toBe(true);
  });
});

describe("the sync runtime's backoff after failures", () => {
  const logger = createLogger({ name: 'sync-runtime-spec', level: 'silent' });

  it('retries a mailbox within dependencyBackoffMaxMs while a dependency is away (a retryable failure), however often it failed', async () => {
    const stores = openEmbeddedStores({ path: ':memory:' });
    await stores.mailboxes.insert(mailboxKey('tenant-a', 'box-0'), mailbox(0));
    let failures = 0;
    const sync: MailboxSync = {
      async turn() {
        failures += 1;
        // The event bus (or the store) is down: a retryable error, as BusUnavailableError is.
        throw Object.assign(new Error('kafka: publish failed'), { retryable: true });
      },
      release: () => undefined,
      pendingPostProcessing: () => 0,
    };
    // Scaled down: 10 ms doubling would reach 10 · 2^11 ms ≈ 20 s by the 12th failure without the cap.
    const runtime = createSyncRuntime({
      stores,
      sync,
      logger,
      clock: Date.now,
      replicaId: 'a',
      options: {
        leaseTtlMs: 2_000,
        scanIntervalMs: 20,
        errorBackoffBaseMs: 10,
        errorBackoffMaxMs: 300_000,
        dependencyBackoffMaxMs: 50,
      },
    });
    runtime.start();
    try {
      await waitFor(() => failures >= 12, { timeoutMs: 5_000, description: '12 turns in a row' });
    } finally {
      await runtime.stop();
      await stores.close();
    }
  });
});

describe('waking a mailbox', () => {
  const logger = createLogger({ name: 'sync-runtime-wake-spec', level: 'silent' });

  it('runs another round when woken while a round runs (the running round may have read Graph before the change)', async () => {
    const stores = openEmbeddedStores({ path: ':memory:' });
    const key = mailboxKey('tenant-a', 'box-0');
    await stores.mailboxes.insert(key, { ...mailbox(0), pollIntervalMs: 3_600_000 });
    let turns = 0;
    let release: (() => void) | undefined;
    const sync: MailboxSync = {
      async turn() {
        turns += 1;
        // The second round is held until the test has woken the mailbox during it.
        if (turns === 2) await new Promise<void>((resolve) => (release = resolve));
        return { complete: true, startedRound: true, phase: 'incremental', ingested: 0, backlog: 0 };
      },
      release: () => undefined,
      pendingPostProcessing: () => 0,
    };
    const runtime = createSyncRuntime({ stores, sync, logger, clock: Date.now, replicaId: 'a', options: { scanIntervalMs: 50 } });
    runtime.start();
    try {
      await waitFor(() => turns === 1 && (runtime.statusOf(key)?.nextSyncAt ?? 0) > Date.now() + 60_000, {
        timeoutMs: 5_000,
        description: 'first round over, next one an hour away',
      });
      expect(runtime.wake(key, false)).toBe(true);
      await waitFor(() => release !== undefined, { timeoutMs: 5_000, description: 'second round running' });
      runtime.wake(key, false);
      release?.();
      await waitFor(() => turns === 3, { timeoutMs: 5_000, description: 'a third round after the wake-up during the second' });
    } finally {
      await runtime.stop();
      await stores.close();
    }
  });

  it('starts the round a wake-up asks for while the last round’s status is still being written, and stores the newest status', async () => {
    const stores = openEmbeddedStores({ path: ':memory:' });
    const key = mailboxKey('tenant-a', 'box-0');
    await stores.mailboxes.insert(key, { ...mailbox(0), pollIntervalMs: 3_600_000 });
    let turns = 0;
    const sync: MailboxSync = {
      async turn() {
        turns += 1;
        return { complete: true, startedRound: true, phase: 'incremental', ingested: turns, backlog: 0 };
      },
      release: () => undefined,
      pendingPostProcessing: () => 0,
    };
    // The status store answers slowly from now on (held until the test lets it go).
    const put = stores.statuses.put.bind(stores.statuses);
    let holdStatusWrites: Promise<void> | undefined;
    let letGo: (() => void) | undefined;
    let heldWrites = 0;
    Object.assign(stores.statuses, {
      put: async (...args: Parameters<typeof put>) => {
        if (holdStatusWrites) {
          heldWrites += 1;
          await holdStatusWrites;
        }
        return put(...args);
      },
    });
    const runtime = createSyncRuntime({ stores, sync, logger, clock: Date.now, replicaId: 'a', options: { scanIntervalMs: 50 } });
    runtime.start();
    try {
      await waitFor(() => turns === 1 && (runtime.statusOf(key)?.nextSyncAt ?? 0) > Date.now() + 60_000, {
        timeoutMs: 5_000,
        description: 'first round over, next one an hour away',
      });
      holdStatusWrites = new Promise<void>((resolve) => (letGo = resolve));
      runtime.wake(key, false);
      await waitFor(() => turns === 2 && heldWrites > 0, { timeoutMs: 5_000, description: 'second round over, its status held' });
      // The wake-up does not wait for the store: the third round runs while the second's status is still being written.
      runtime.wake(key, false);
      await waitFor(() => turns === 3, { timeoutMs: 5_000, description: 'a third round while the status write is held' });
      letGo?.();
      await waitFor(async () => (await stores.statuses.get(key))?.messagesIngestedTotal === 1 + 2 + 3, {
        timeoutMs: 5_000,
        description: 'the newest status stored',
      });
    } finally {
      letGo?.();
      await runtime.stop();
      await stores.close();
    }
  });
});
