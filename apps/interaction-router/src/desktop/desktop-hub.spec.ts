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
    return { hub, pushed };
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
});
