import { addSamples, chartPoints, HISTORY_MS } from './queue-history';

describe('queue history sampled in the browser', () => {
  it('keeps an hour of samples per queue and drops older ones', () => {
    let history = addSamples({}, { q1: { waiting: 3, serviceLevel: 90 } }, 0);
    history = addSamples(history, { q1: { waiting: 5, serviceLevel: 80 } }, HISTORY_MS / 2);
    history = addSamples(history, { q1: { waiting: 1, serviceLevel: undefined } }, HISTORY_MS + 1);
    expect(history['q1']?.map((s) => s.waiting)).toEqual([5, 1]);
  });

  it('forgets queues that are gone', () => {
    const history = addSamples(
      { gone: [{ at: 0, waiting: 1, serviceLevel: 100 }] },
      { q1: { waiting: 0, serviceLevel: 100 } },
      1,
    );
    expect(Object.keys(history)).toEqual(['q1']);
  });

  it('places points on the last hour, skipping samples without a value', () => {
    const samples = [
      { at: 0, waiting: 0, serviceLevel: undefined },
      { at: HISTORY_MS / 2, waiting: 10, serviceLevel: 50 },
      { at: HISTORY_MS, waiting: 5, serviceLevel: 100 },
    ];
    const box = { width: 100, height: 50, max: 10, now: HISTORY_MS };
    expect(chartPoints(samples, (s) => s.waiting, box)).toBe('0.0,50.0 50.0,0.0 100.0,25.0');
    expect(chartPoints(samples, (s) => s.serviceLevel, { ...box, max: 100 })).toBe('50.0,25.0 100.0,0.0');
  });
});
