import { describeEventBusContract } from '@mailroute/testing';
import { InProcessBroker, InProcessEventBus, partitionFor } from '../index';

// Every bus of one test shares a broker, as replicas share a Kafka cluster.
let broker = new InProcessBroker();
beforeEach(() => {
  broker = new InProcessBroker();
});

describeEventBusContract('in-process', { createBus: () => new InProcessEventBus({ broker }), timeoutMs: 5_000 });

describe('partitionFor', () => {
  it('is stable and spreads keys over every partition', () => {
    expect(partitionFor('tenant-1/support@contoso.com', 8)).toBe(partitionFor('tenant-1/support@contoso.com', 8));
    const used = new Set(Array.from({ length: 200 }, (_, i) => partitionFor(`key-${i}`, 8)));
    expect(used.size).toBe(8);
  });
});
