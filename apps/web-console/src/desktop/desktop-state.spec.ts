import { Interaction, Offer, SendState, type ConnectResponse } from '@mailroute/contracts';
import { applyDesktopEvent, initialDesktopState, offerTimeLeftMs, recordSend } from './desktop-state';

const interaction = (id: string) => Interaction.fromPartial({ interactionId: id, subject: `subject ${id}` });
const offer = (id: string, interactionId: string, expiresAt = new Date(60_000)) =>
  Offer.fromPartial({ offerId: id, interaction: interaction(interactionId), expiresAt });
const event = (sequence: number, value: ConnectResponse['event'], sentAt = new Date(10_000)): ConnectResponse => ({
  sequence,
  sentAt,
  event: value,
});

describe('the desktop state', () => {
  it('shows an offer accepted before a reconnect as assigned work, not as an offer again', () => {
    let state = applyDesktopEvent(
      initialDesktopState,
      event(1, { $case: 'snapshot', value: { pendingOffers: [offer('o1', 'i1')], assigned: [] } }),
      10_000,
    );
    expect(Object.keys(state.offers)).toEqual(['o1']);
    // The stream drops; the new stream's snapshot is the server's truth.
    state = applyDesktopEvent(
      state,
      event(1, { $case: 'snapshot', value: { pendingOffers: [], assigned: [interaction('i1')] } }),
      10_000,
    );
    expect(state.offers).toEqual({});
    expect(Object.keys(state.assigned)).toEqual(['i1']);
  });

  it('removes the offer of an interaction once it is assigned, and the work once it ends', () => {
    let state = applyDesktopEvent(initialDesktopState, event(1, { $case: 'offer', value: offer('o1', 'i1') }), 10_000);
    state = applyDesktopEvent(
      state,
      event(2, { $case: 'assignment', value: { interaction: interaction('i1'), reason: 1, note: '' } }),
      10_000,
    );
    expect(state.offers).toEqual({});
    expect(state.assigned['i1']?.subject).toBe('subject i1');
    state = applyDesktopEvent(state, event(3, { $case: 'assignmentEnded', value: { interactionId: 'i1', reason: 2 } }), 10_000);
    expect(state.assigned).toEqual({});
    expect(state.ended[0]).toMatchObject({ interactionId: 'i1', subject: 'subject i1' });
  });

  it('ignores updates of interactions the agent does not hold', () => {
    const state = applyDesktopEvent(
      initialDesktopState,
      event(1, { $case: 'interactionUpdated', value: { interaction: interaction('other'), reason: 0 } }),
      10_000,
    );
    expect(state.assigned).toEqual({});
  });

  it('keeps a send result that arrived before the Reply response', () => {
    let state = applyDesktopEvent(
      initialDesktopState,
      event(1, {
        $case: 'sendResult',
        value: { sendId: 's1', idempotencyKey: 'k1', interactionId: 'i1', state: SendState.SEND_STATE_SENT },
      }),
      10_000,
    );
    state = recordSend(state, { sendId: 's1', idempotencyKey: 'k1', interactionId: 'i1', state: SendState.SEND_STATE_ACCEPTED });
    expect(state.sends['k1']?.state).toBe(SendState.SEND_STATE_SENT);
  });

  it('counts an offer down by the server clock', () => {
    // The server's clock is 5 s ahead of the browser's.
    const state = applyDesktopEvent(initialDesktopState, event(1, { $case: 'heartbeat', value: {} }, new Date(15_000)), 10_000);
    expect(offerTimeLeftMs(offer('o1', 'i1', new Date(60_000)), state, 10_000)).toBe(45_000);
    expect(offerTimeLeftMs(offer('o1', 'i1', new Date(60_000)), state, 90_000)).toBe(0);
  });
});
