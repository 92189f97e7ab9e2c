import { InteractionState, InteractionStateChanged, StateChangeReason } from '@mailroute/contracts';
import type { EventBus } from '@mailroute/messaging';
import { createLogger } from '@mailroute/platform';
import { createDesktopHub } from './desktop-hub';

const offered = (version: number, offerId: string, reason = StateChangeReason.STATE_CHANGE_REASON_OFFERED) =>
  InteractionStateChanged.fromPartial({
    tenantId: 't1',
    interactionId: 'ix-1',
    version,
    previousState: InteractionState.INTERACTION_STATE_OFFERED,
    state: InteractionState.INTERACTION_STATE_OFFERED,
    reason,
    interaction: {
      interactionId: 'ix-1',
      state: InteractionState.INTERACTION_STATE_OFFERED,
      offeredAgentId: 'ana',
      offerId,
      version,
    },
  });

/** A change of ix-1 to `state` (queued, or held by ana) at `version`. */
const moved = (version: number, state: InteractionState, reason: StateChangeReason) =>
  InteractionStateChanged.fromPartial({
    tenantId: 't1',
    interactionId: 'ix-1',
    version,
    state,
    reason,
    interaction: {
      interactionId: 'ix-1',
      state,
      agentId: state === InteractionState.INTERACTION_STATE_ASSIGNED ? 'ana' : '',
      version,
    },
  });

/** The hub's delivery of state changes to a local stream (no bus involved: `deliver` is what its consumer calls). */
describe('desktop hub: one offer per interaction on a stream', () => {
  function openStream() {
    const hub = createDesktopHub({
      bus: {} as EventBus,
      logger: createLogger({ name: 'hub-spec', level: 'silent' }),
      replicaId: 'r1',
    });
    const session = hub.open('t1', 'ana', 'desk');
    const pushed: string[] = [];
    const push = session.push.bind(session);
    session.push = (event) => {
      pushed.push(
        event.$case === 'offer'
          ? `offer ${event.value.offerId}`
          : event.$case === 'offerRevoked'
            ? `revoked ${event.value.offerId}`
            : event.$case,
      );
      push(event);
    };
    return { hub, session, pushed };
  }

  it('pushes nothing more when a change leaves the offer standing (a merged follow-up)', () => {
    const { hub, pushed } = openStream();
    hub.deliver(offered(3, 'ix-1~3'));
    hub.deliver(offered(4, 'ix-1~3', StateChangeReason.STATE_CHANGE_REASON_CUSTOMER_REPLIED));
    expect(pushed).toEqual(['offer ix-1~3']);
  });

  it('revokes the offer it replaces before pushing a new offer of the same interaction', () => {
    const { hub, pushed } = openStream();
    hub.deliver(offered(3, 'ix-1~3'));
    hub.deliver(offered(5, 'ix-1~5', StateChangeReason.STATE_CHANGE_REASON_TRANSFERRED_TO_AGENT));
    expect(pushed).toEqual(['offer ix-1~3', 'revoked ix-1~3', 'offer ix-1~5']);
  });

  it('acts on the newest change only: an older one landing late (a slow publish, the relay) neither revokes the offer nor offers it again', () => {
    const { hub, pushed } = openStream();
    hub.deliver(offered(3, 'ix-1~3'));
    hub.deliver(moved(2, InteractionState.INTERACTION_STATE_QUEUED, StateChangeReason.STATE_CHANGE_REASON_ROUTED));
    hub.deliver(offered(4, 'ix-1~3', StateChangeReason.STATE_CHANGE_REASON_CUSTOMER_REPLIED));
    expect(pushed).toEqual(['offer ix-1~3']);
  });

  it('shows no accepted offer again when its change is delivered a second time', () => {
    const { hub, pushed } = openStream();
    hub.deliver(offered(3, 'ix-1~3'));
    hub.deliver(moved(4, InteractionState.INTERACTION_STATE_ASSIGNED, StateChangeReason.STATE_CHANGE_REASON_OFFER_ACCEPTED));
    hub.deliver(offered(3, 'ix-1~3'));
    expect(pushed).toEqual(['offer ix-1~3', 'assignment']);
  });

  it("leaves an offer from the stream's snapshot alone when an older change reaches the hub after it", () => {
    const { hub, session, pushed } = openStream();
    // As Connect does: the snapshot read the interaction at version 3, offered to ana.
    session.offers.set('ix-1', 'ix-1~3');
    session.snapshotVersions.set('ix-1', 3);
    hub.deliver(moved(2, InteractionState.INTERACTION_STATE_QUEUED, StateChangeReason.STATE_CHANGE_REASON_ROUTED));
    hub.deliver(offered(3, 'ix-1~3'));
    expect(pushed).toEqual([]);
    hub.deliver(moved(4, InteractionState.INTERACTION_STATE_ASSIGNED, StateChangeReason.STATE_CHANGE_REASON_OFFER_ACCEPTED));
    expect(pushed).toEqual(['assignment']);
  });
});
