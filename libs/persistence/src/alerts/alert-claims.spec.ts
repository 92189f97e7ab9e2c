import { createAlertClaims, EmbeddedDocumentTable, EmbeddedStore, type AlertRow, type PublishedAlert } from '../index';

interface Payload {
  value: number;
}

describe('alert claims', () => {
  let store: EmbeddedStore;
  let table: EmbeddedDocumentTable<AlertRow<Payload>>;
  let now = 1_000_000;
  let published: PublishedAlert<Payload>[];

  beforeEach(() => {
    store = new EmbeddedStore({ path: ':memory:' });
    table = new EmbeddedDocumentTable<AlertRow<Payload>>(store, 'alerts');
    published = [];
  });
  afterEach(() => store.close());

  const claims = (
    options: { publish?: (alert: PublishedAlert<Payload>) => Promise<void>; mayForget?: () => Promise<boolean> } = {},
  ) =>
    createAlertClaims<Payload>({
      table,
      clock: () => now,
      publish:
        options.publish ??
        (async (alert) => {
          published.push(alert);
        }),
      relayAfterMs: 30_000,
      retentionMs: 3_600_000,
      mayForget: options.mayForget,
    });

  /** Fires at 10, resolves at 8 or below (the hysteresis the producers use). */
  const threshold = (value: number) => (phase: 'firing' | 'resolved') =>
    phase === 'resolved' && value >= 10
      ? { phase: 'firing' as const, payload: { value } }
      : phase === 'firing' && value <= 8
        ? { phase: 'resolved' as const, payload: { value } }
        : undefined;

  it('publishes one firing and one resolved event per crossing, whichever of two replicas settles, without flapping in between', async () => {
    const [a, b] = [claims(), claims()];
    const both = async (value: number) =>
      Promise.all([a.settle('t/q/count', threshold(value)), b.settle('t/q/count', threshold(value))]);
    await both(5);
    await both(10);
    await both(12);
    await both(9); // between the two thresholds: still firing
    await both(10);
    await both(8);
    await both(3);
    await both(11);
    expect(published.map((alert) => [alert.key, alert.payload.value, alert.phase])).toEqual([
      ['t/q/count/00000001/firing', 10, 'firing'],
      ['t/q/count/00000001/resolved', 8, 'resolved'],
      ['t/q/count/00000002/firing', 11, 'firing'],
    ]);
    expect(await a.phaseOf('t/q/count')).toBe('firing');
    expect(await a.firing('t/')).toEqual(['t/q/count']);
    await a.settle('t/q/count', threshold(0));
    expect(await a.firing('t/')).toEqual([]);
  });

  it('raises a one-shot alert once across replicas', async () => {
    const [a, b] = [claims(), claims()];
    expect(
      (await Promise.all([a.raiseOnce('t/i/sla-breached', { value: 1 }), b.raiseOnce('t/i/sla-breached', { value: 1 })])).sort(),
    ).toEqual([false, true]);
    expect(await a.raiseOnce('t/i/sla-breached', { value: 1 })).toBe(false);
    expect(published).toHaveLength(1);
  });

  it('relays a claim whose publication failed once it is older than the relay delay, reading only pending markers', async () => {
    const failing = claims({ publish: () => Promise.reject(new Error('bus down')) });
    await expect(failing.settle('t/m/stopped', threshold(10))).rejects.toThrow('bus down');
    const healthy = claims();
    expect(await healthy.relay()).toBe(0);
    now += 31_000;
    expect(await healthy.relay()).toBe(1);
    expect(await healthy.relay()).toBe(0);
    expect(published.map((alert) => alert.key)).toEqual(['t/m/stopped/00000001/firing']);
    expect(await table.list({ prefix: '~pending/', limit: 10 })).toEqual([]);
  });

  it('relays an alert whose raiser died between its pending marker and its claim', async () => {
    await table.put(`~pending/${String(now).padStart(15, '0')}/t/i/sla-due-soon`, {
      raisedAt: now,
      payload: { value: 2 },
      claimKey: 't/i/sla-due-soon',
    });
    now += 31_000;
    expect(await claims().relay()).toBe(1);
    expect(await claims().raiseOnce('t/i/sla-due-soon', { value: 2 })).toBe(false);
    expect(published.map((alert) => alert.key)).toEqual(['t/i/sla-due-soon']);
  });

  it('prunes resolved episodes after the retention and keeps counting episodes from the head', async () => {
    const a = claims();
    await a.settle('t/q/wait', threshold(10));
    await a.settle('t/q/wait', threshold(0));
    expect(await a.prune()).toBe(0);
    now += 3_600_001;
    expect(await a.prune()).toBe(2);
    expect((await table.list({ prefix: 't/q/wait/', limit: 10 })).length).toBe(0);
    await a.settle('t/q/wait', threshold(10));
    expect(published.map((alert) => alert.key).at(-1)).toBe('t/q/wait/00000002/firing');
    expect(await table.list({ prefix: '~prune/', limit: 10 })).toEqual([]);
  });

  it('keeps a one-shot claim its subject may still raise, and deletes it once allowed', async () => {
    let forget = false;
    const a = claims({ mayForget: async () => forget });
    await a.raiseOnce('t/i/sla-breached', { value: 1 });
    now += 3_600_001;
    expect(await a.prune()).toBe(0);
    expect(await table.get('t/i/sla-breached')).toBeDefined();
    forget = true;
    now += 3_600_001;
    expect(await a.prune()).toBe(1);
    expect(await table.get('t/i/sla-breached')).toBeUndefined();
  });
});
