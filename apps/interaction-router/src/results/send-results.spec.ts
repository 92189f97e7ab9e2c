import { SendState } from '@mailroute/contracts';
import { advancesSend } from './send-results';

const S = SendState;

describe('advancesSend (which OutboundResult moves a send forward)', () => {
  it('takes the first report and later attempts, never an older attempt', () => {
    expect(advancesSend({ state: S.SEND_STATE_ACCEPTED }, { state: S.SEND_STATE_RETRYING, attempts: 1 })).toBe(true);
    expect(advancesSend({ state: S.SEND_STATE_RETRYING, attempts: 1 }, { state: S.SEND_STATE_RETRYING, attempts: 2 })).toBe(true);
    expect(advancesSend({ state: S.SEND_STATE_RETRYING, attempts: 2 }, { state: S.SEND_STATE_RETRYING, attempts: 2 })).toBe(
      false,
    );
    expect(advancesSend({ state: S.SEND_STATE_RETRYING, attempts: 3 }, { state: S.SEND_STATE_RETRYING, attempts: 1 })).toBe(
      false,
    );
  });

  it('ends with the first final state and ignores everything after it', () => {
    expect(advancesSend({ state: S.SEND_STATE_RETRYING, attempts: 5 }, { state: S.SEND_STATE_SENT, attempts: 1 })).toBe(true);
    expect(advancesSend({ state: S.SEND_STATE_ACCEPTED }, { state: S.SEND_STATE_FAILED, attempts: 1 })).toBe(true);
    for (const final of [S.SEND_STATE_SENT, S.SEND_STATE_FAILED]) {
      for (const next of [S.SEND_STATE_RETRYING, S.SEND_STATE_SENT, S.SEND_STATE_FAILED, S.SEND_STATE_SENDING]) {
        expect(advancesSend({ state: final, attempts: 1 }, { state: next, attempts: 9 })).toBe(false);
      }
    }
  });

  it('follows a send through CHECKING (outcome unknown) to SENT or OUTCOME_UNKNOWN, which is final', () => {
    expect(advancesSend({ state: S.SEND_STATE_RETRYING, attempts: 1 }, { state: S.SEND_STATE_CHECKING, attempts: 2 })).toBe(true);
    expect(advancesSend({ state: S.SEND_STATE_CHECKING, attempts: 2 }, { state: S.SEND_STATE_CHECKING, attempts: 3 })).toBe(true);
    expect(
      advancesSend({ state: S.SEND_STATE_CHECKING, attempts: 3 }, { state: S.SEND_STATE_OUTCOME_UNKNOWN, attempts: 3 }),
    ).toBe(true);
    for (const next of [S.SEND_STATE_CHECKING, S.SEND_STATE_SENT, S.SEND_STATE_FAILED, S.SEND_STATE_RETRYING]) {
      expect(advancesSend({ state: S.SEND_STATE_OUTCOME_UNKNOWN, attempts: 3 }, { state: next, attempts: 9 })).toBe(false);
    }
  });

  it('ignores states outbound-send never reports after ACCEPTED', () => {
    expect(advancesSend({ state: S.SEND_STATE_RETRYING, attempts: 1 }, { state: S.SEND_STATE_ACCEPTED, attempts: 2 })).toBe(
      false,
    );
    expect(advancesSend({ state: S.SEND_STATE_ACCEPTED }, { state: S.SEND_STATE_UNSPECIFIED, attempts: 0 })).toBe(false);
  });
});
