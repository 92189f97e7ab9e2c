import { createMailboxLimiter } from './mailbox-limiter';

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('mailbox limiter', () => {
  it('never runs more than perMailbox requests of one mailbox at once', async () => {
    const limiter = createMailboxLimiter({ perMailbox: 3 });
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        limiter.run('a', async () => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 2));
          running -= 1;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(limiter.peakPerMailbox).toBe(3);
  });

  it('lets other mailboxes run while one is saturated or paused', async () => {
    const limiter = createMailboxLimiter({ perMailbox: 1 });
    const held = gate();
    const first = limiter.run('a', () => held.promise);
    limiter.pause('b', Date.now() + 60_000);
    const waitingB = limiter.run('b', async () => 'b');
    await expect(limiter.run('c', async () => 'c')).resolves.toBe('c');
    expect(limiter.pausedUntil('b')).toBeGreaterThan(Date.now());
    held.open();
    await first;
    limiter.pause('b', 0);
    const abort = new AbortController();
    abort.abort();
    await expect(limiter.run('b', async () => 'x', abort.signal)).rejects.toThrow(/aborted/);
    void waitingB.catch(() => undefined);
  });

  it('holds a paused mailbox until its Retry-After has passed', async () => {
    const limiter = createMailboxLimiter();
    const started = Date.now();
    limiter.pause('a', started + 150);
    await limiter.run('a', async () => undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('bounds requests over all mailboxes by the global limit', async () => {
    const limiter = createMailboxLimiter({ perMailbox: 3, global: 4 });
    let peak = 0;
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        limiter.run(`m${i % 10}`, async () => {
          peak = Math.max(peak, limiter.inFlight());
          await new Promise((resolve) => setTimeout(resolve, 1));
        }),
      ),
    );
    expect(peak).toBe(4);
  });

  it("rejects a per-mailbox limit above Outlook's four", () => {
    expect(() => createMailboxLimiter({ perMailbox: 5 })).toThrow(/perMailbox/);
  });
});
