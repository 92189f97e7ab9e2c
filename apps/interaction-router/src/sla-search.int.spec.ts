import { Status, type ClientError } from 'nice-grpc';
import { ActorKind, InteractionState, SlaState, StateChangeReason, Queue } from '@mailroute/contracts';
import type { InteractionRecord } from '@mailroute/persistence';
import { randomId, testInfra, waitFor } from '@mailroute/testing';
import { createTestIdentityProvider, startHarness, type Harness } from '../test/router-harness';

/**
 * SLA states on SearchInteractions and GetInteraction: one router replica on real Kafka, FerretDB
 * and gRPC over sockets. Two interactions arrive through intake (their due times come from their
 * queues); three more are written to the store with the timestamps a breach, a met and a missed
 * first response leave behind.
 */
const slow = { timeoutMs: 90_000, intervalMs: 100 };
const MINUTE = 60_000;

describe('SLA states in the interaction search', () => {
  const tenant = randomId('t-sla');
  let harness: Harness;

  beforeAll(async () => {
    const idp = await createTestIdentityProvider(new Map([[randomId('dir-sla'), tenant]]));
    harness = await startHarness({ infra: testInfra(), replicas: 1, tenants: [tenant], verifier: idp.verifier });
  });

  afterAll(async () => {
    await harness?.close();
  });

  async function mail(queueId: string): Promise<InteractionRecord> {
    const interactionId = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      defaultQueueId: queueId,
      message: {
        subject: `Hello ${queueId}`,
        conversationId: `conv-${interactionId}`,
        graphMessageId: `g-${interactionId}`,
      } as never,
    });
    let record: InteractionRecord | undefined;
    await waitFor(async () => {
      record = await harness.stores.interactions.get(tenant, interactionId);
      return record?.state === InteractionState.INTERACTION_STATE_QUEUED;
    }, slow);
    return record as InteractionRecord;
  }

  /** A copy of `from` under a new id, as an agent's interaction with the given SLA timestamps. */
  async function stored(from: InteractionRecord, times: Partial<InteractionRecord>): Promise<string> {
    const interactionId = randomId('ix-stored');
    const interaction: InteractionRecord = {
      ...from,
      ...times,
      interactionId,
      version: 1,
      state: times.firstRepliedAt ? InteractionState.INTERACTION_STATE_REPLIED : InteractionState.INTERACTION_STATE_ASSIGNED,
      agentId: 'alice',
    };
    const outcome = await harness.stores.interactions.commit({
      tenantId: tenant,
      interactionId,
      version: 1,
      occurredAt: Date.now(),
      previousState: InteractionState.INTERACTION_STATE_UNSPECIFIED,
      state: interaction.state,
      reason: StateChangeReason.STATE_CHANGE_REASON_RECEIVED,
      actor: { kind: ActorKind.ACTOR_KIND_SYSTEM, id: 'test', displayName: '' },
      queueId: interaction.queueId ?? '',
      agentId: 'alice',
      note: '',
      interaction,
    });
    expect(outcome).toBe('committed');
    return interactionId;
  }

  it('finds interactions by SLA state, computed from each queue’s due time and due-soon window, and names a bad filter field', async () => {
    const admin = harness.admin(tenant);
    const queue = (queueId: string, thresholdMinutes: number, dueSoonMinutes: number) =>
      admin.createQueue({
        queueId,
        queue: Queue.fromPartial({
          displayName: queueId,
          serviceLevel: {
            threshold: { seconds: thresholdMinutes * 60, nanos: 0 },
            targetPercent: 80,
            dueSoonBefore: { seconds: dueSoonMinutes * 60, nanos: 0 },
          },
        }),
      });
    // A due-soon window longer than the threshold is refused, naming the field.
    const tooLong = await queue('bad', 10, 20).then(
      () => undefined,
      (error: unknown) => error as ClientError,
    );
    expect({ code: tooLong?.code, details: tooLong?.details }).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: 'queue.service_level.due_soon_before: must be from 1m to the threshold',
    });
    await queue('relaxed', 7 * 24 * 60, 60);
    await queue('tight', 60, 60);

    const onTrack = await mail('relaxed');
    const dueSoon = await mail('tight');
    expect(onTrack.serviceLevelDueAt).toBe((onTrack.queuedAt ?? 0) + 7 * 24 * 60 * MINUTE);
    const now = Date.now();
    const breached = await stored(dueSoon, { serviceLevelDueAt: now - MINUTE });
    const met = await stored(dueSoon, { serviceLevelDueAt: now - MINUTE, firstRepliedAt: now - 2 * MINUTE });
    const missed = await stored(dueSoon, { serviceLevelDueAt: now - 2 * MINUTE, firstRepliedAt: now - MINUTE });
    // Closed without a reply: no clock.
    const closed = await stored(dueSoon, { serviceLevelDueAt: now - MINUTE, closedAt: now - 30_000 });

    const search = async (...slaStates: SlaState[]) =>
      (await admin.searchInteractions({ filter: { slaStates } as never, page: { pageSize: 50, pageToken: '' } })).interactions
        .map((interaction) => interaction.interactionId)
        .sort();
    expect(await search(SlaState.SLA_STATE_ON_TRACK)).toEqual([onTrack.interactionId]);
    expect(await search(SlaState.SLA_STATE_DUE_SOON)).toEqual([dueSoon.interactionId]);
    expect(await search(SlaState.SLA_STATE_BREACHED)).toEqual([breached]);
    expect(await search(SlaState.SLA_STATE_MET)).toEqual([met]);
    expect(await search(SlaState.SLA_STATE_MISSED)).toEqual([missed]);
    expect(await search(SlaState.SLA_STATE_BREACHED, SlaState.SLA_STATE_DUE_SOON)).toEqual(
      [breached, dueSoon.interactionId].sort(),
    );

    // Every interaction read shows its state; the closed one has none.
    const all = (await admin.searchInteractions({ page: { pageSize: 50, pageToken: '' } })).interactions;
    expect(Object.fromEntries(all.map((interaction) => [interaction.interactionId, interaction.slaState]))).toEqual({
      [onTrack.interactionId]: SlaState.SLA_STATE_ON_TRACK,
      [dueSoon.interactionId]: SlaState.SLA_STATE_DUE_SOON,
      [breached]: SlaState.SLA_STATE_BREACHED,
      [met]: SlaState.SLA_STATE_MET,
      [missed]: SlaState.SLA_STATE_MISSED,
      [closed]: SlaState.SLA_STATE_UNSPECIFIED,
    });
    expect((await admin.getInteraction({ interactionId: breached })).interaction?.slaState).toBe(SlaState.SLA_STATE_BREACHED);

    // Combined with the subject filter, both must match.
    const bySubjectAndState = await admin.searchInteractions({
      filter: { subjectContains: 'hello tight', slaStates: [SlaState.SLA_STATE_DUE_SOON, SlaState.SLA_STATE_MET] } as never,
    });
    expect(bySubjectAndState.interactions.map((interaction) => interaction.interactionId).sort()).toEqual(
      [dueSoon.interactionId, met].sort(),
    );

    const refused = async (slaStates: SlaState[]) => {
      const error = await admin.searchInteractions({ filter: { slaStates } as never }).then(
        () => undefined,
        (e: unknown) => e as ClientError,
      );
      return { code: error?.code, details: error?.details };
    };
    expect(await refused([SlaState.SLA_STATE_UNSPECIFIED])).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: 'filter.sla_states: must hold SLA states other than SLA_STATE_UNSPECIFIED',
    });
    expect(await refused([42 as SlaState])).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: 'filter.sla_states[0]: 42 is not a SlaState value',
    });
  });
});
