import { createFaultInjector, createRandom, sampleLatency } from './fault-injector';

describe('fault injector', () => {
  it('matches on tenant, mailbox (id or address) and endpoint prefix', () => {
    const faults = createFaultInjector(createRandom(1));
    faults.add({ tenantId: 'T1', mailbox: 'support@x.example', endpoint: 'messages.*', status: 503, retryAfterSeconds: 5 });
    expect(
      faults.decide({ endpoint: 'messages.list', tenantId: 't1', mailboxId: 'id', mailboxAddress: 'Support@x.example' }),
    ).toEqual({
      latencyMs: 0,
      drop: false,
      dropResponse: false,
      status: 503,
      retryAfterSeconds: 5,
    });
    expect(faults.decide({ endpoint: 'mailFolders.list', tenantId: 't1', mailboxAddress: 'support@x.example' })).toBeUndefined();
    expect(faults.decide({ endpoint: 'messages.list', tenantId: 't2', mailboxAddress: 'support@x.example' })).toBeUndefined();
  });

  it('asks to carry a request out and cut the connection instead of answering (dropResponse), and injects permanent answers', () => {
    const faults = createFaultInjector(createRandom(1));
    faults.add({ endpoint: 'messages.send', dropResponse: true, times: 1 });
    faults.add({ endpoint: 'messages.list', status: 403 });
    expect(faults.decide({ endpoint: 'messages.send' })).toEqual({ latencyMs: 0, drop: false, dropResponse: true });
    expect(faults.decide({ endpoint: 'messages.send' })).toBeUndefined();
    expect(faults.decide({ endpoint: 'messages.list' })?.status).toBe(403);
    expect(() => faults.add({ endpoint: 'messages.list', status: 418 as 403 })).toThrow();
  });

  it('removes a rule after `times` firings', () => {
    const faults = createFaultInjector(createRandom(1));
    faults.add({ endpoint: 'entra.token', status: 429, times: 2 });
    expect(faults.decide({ endpoint: 'entra.token' })?.status).toBe(429);
    expect(faults.decide({ endpoint: 'entra.token' })?.status).toBe(429);
    expect(faults.decide({ endpoint: 'entra.token' })).toBeUndefined();
    expect(faults.list()).toEqual([]);
  });

  it('fires a probabilistic rule about as often as asked, reproducibly for a seed', () => {
    const run = () => {
      const faults = createFaultInjector(createRandom(7));
      faults.add({ status: 500, probability: 0.25 });
      return Array.from({ length: 4000 }, () => faults.decide({ endpoint: 'x' })?.status === 500).filter(Boolean).length;
    };
    const hits = run();
    expect(hits).toBeGreaterThan(850);
    expect(hits).toBeLessThan(1150);
    expect(run()).toBe(hits);
  });

  it('samples latency distributions within their bounds', () => {
    const random = createRandom(3);
    for (let index = 0; index < 200; index += 1) {
      const uniform = sampleLatency({ distribution: 'uniform', minMs: 10, maxMs: 20 }, random);
      expect(uniform).toBeGreaterThanOrEqual(10);
      expect(uniform).toBeLessThanOrEqual(20);
      expect(sampleLatency({ distribution: 'normal', meanMs: 5, stdDevMs: 50 }, random)).toBeGreaterThanOrEqual(0);
      expect(sampleLatency({ distribution: 'exponential', meanMs: 30 }, random)).toBeGreaterThanOrEqual(0);
    }
    expect(sampleLatency({ distribution: 'fixed', ms: 42 }, random)).toBe(42);
  });

  it('rejects unknown keys in a rule', () => {
    const faults = createFaultInjector(createRandom(1));
    expect(() => faults.add({ status: 503, colour: 'red' } as never)).toThrow();
  });
});
