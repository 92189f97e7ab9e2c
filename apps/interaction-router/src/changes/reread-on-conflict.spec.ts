import { FailedPreconditionError, NotFoundError } from '@mailroute/platform';
import { createTestCore } from '../../test/router-core.fixture';
import { maxRereads } from './reread-on-conflict';

describe('rereadOnConflict', () => {
  it('decides again on a fresh read while another writer keeps winning, and returns the decision', async () => {
    const t = createTestCore();
    await t.core.intake(t.inbound({ tenantId: 't1', interactionId: 'i1' }));
    const seen: number[] = [];
    const outcome = await t.core.rereadOnConflict('t1', 'i1', async (record) => {
      seen.push(record.version);
      return seen.length < 3 ? 'retry' : `decided at version ${record.version}`;
    });
    expect(outcome).toBe('decided at version 2');
    expect(seen).toEqual([2, 2, 2]);
    await t.close();
  });

  it('uses a known record for the first attempt only', async () => {
    const t = createTestCore();
    await t.core.intake(t.inbound({ tenantId: 't1', interactionId: 'i1' }));
    const stored = await t.stores.interactions.get('t1', 'i1');
    const versions: number[] = [];
    await t.core.rereadOnConflict(
      't1',
      'i1',
      async (record) => (versions.push(record.version), versions.length < 2 ? 'retry' : record),
      { ...(stored as NonNullable<typeof stored>), version: 99 },
    );
    expect(versions).toEqual([99, 2]);
    await t.close();
  });

  it(`gives up after ${maxRereads} conflicts with a retryable FAILED_PRECONDITION, and NOT_FOUND for no interaction`, async () => {
    const t = createTestCore();
    await t.core.intake(t.inbound({ tenantId: 't1', interactionId: 'i1' }));
    let attempts = 0;
    const failure = await t.core.rereadOnConflict('t1', 'i1', async () => ((attempts += 1), 'retry')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(FailedPreconditionError);
    expect((failure as FailedPreconditionError).retryable).toBe(true);
    expect(attempts).toBe(maxRereads);
    await expect(t.core.rereadOnConflict('t1', 'missing', async () => 'never')).rejects.toBeInstanceOf(NotFoundError);
    await t.close();
  });
});
