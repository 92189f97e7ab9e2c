import type { InteractionRecord } from '@mailroute/persistence';
import { openEmbeddedRouterStores } from '../store/embedded-router-stores';
import type { RouterStores } from '../store/router-stores';
import { createInteractionReferences } from './interaction-references';

const record = (overrides: Partial<InteractionRecord>): InteractionRecord =>
  ({
    tenantId: 'tenant-a',
    interactionId: 'ix-1',
    mailboxId: 'support',
    customerAddress: 'ann@example.com',
    subject: 'Printer',
    ...overrides,
  }) as InteractionRecord;

describe('interaction references', () => {
  let stores: RouterStores;
  beforeEach(() => {
    stores = openEmbeddedRouterStores(':memory:');
  });
  afterEach(() => stores.close());

  it('gives an interaction the same reference every time and another interaction a different one', async () => {
    const references = createInteractionReferences({ stores });
    const first = await references.assign(record({}), 'ACME');
    expect(first).toMatch(/^ACME-[1-9]\d{0,11}$/);
    expect(await references.assign(record({}), 'ACME')).toBe(first);
    expect(await references.assign(record({ interactionId: 'ix-2' }), 'ACME')).not.toBe(first);
  });

  it("moves to the next number when the interaction's own number is taken", async () => {
    const references = createInteractionReferences({ stores });
    const own = await references.assign(record({}), 'ACME');
    await stores.references.delete(`tenant-a/${own}`);
    await stores.references.insert(`tenant-a/${own}`, {
      interactionId: 'ix-other',
      mailboxId: 'support',
      customerAddress: 'x@y.z',
    });
    const moved = await references.assign(record({}), 'ACME');
    expect(moved).not.toBe(own);
    expect(Number(moved.slice(5))).toBe((Number(own.slice(5)) % 999_999_999_999) + 1);
  });

  it('finds the interaction only for mail of the same tenant and mailbox from the acknowledged address', async () => {
    const references = createInteractionReferences({ stores });
    const reference = await references.assign(record({}), 'ACME');
    const quoting = (overrides: Partial<InteractionRecord>) =>
      references.referredInteractionId(
        record({ interactionId: 'ix-new', subject: `Re: still broken [#${reference}]`, ...overrides }),
      );
    expect(await quoting({})).toBe('ix-1');
    expect(await quoting({ customerAddress: 'mallory@example.com' })).toBeUndefined();
    expect(await quoting({ mailboxId: 'sales' })).toBeUndefined();
    expect(await quoting({ tenantId: 'tenant-b' })).toBeUndefined();
    expect(await quoting({ subject: 'Re: still broken' })).toBeUndefined();
    expect(await quoting({ subject: `Re: [#ACME-1${reference.slice(5)}]` })).toBeUndefined();
  });
});
