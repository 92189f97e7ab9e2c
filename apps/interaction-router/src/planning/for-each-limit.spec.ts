import { forEachLimit } from './for-each-limit';

describe('forEachLimit', () => {
  it('runs every item with at most `limit` at a time', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      done.push(item);
      running -= 1;
    });
    expect(most).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('stops taking items after the first failure and reports it once every lane finished', async () => {
    const started: number[] = [];
    let finished = 0;
    const failing = forEachLimit([1, 2, 3, 4, 5, 6], 2, async (item) => {
      started.push(item);
      await new Promise((resolve) => setImmediate(resolve));
      finished += 1;
      if (item === 1) throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    expect(started.length).toBeLessThan(6);
    expect(finished).toBe(started.length);
  });
});
