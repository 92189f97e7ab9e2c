import { parseRoute, routeHash } from './route';

describe('console routes', () => {
  it('reads supervisor tabs and interaction ids from the hash and writes them back the same', () => {
    for (const hash of [
      '#/desktop',
      '#/desktop/int-1',
      '#/supervisor/agents',
      '#/supervisor/hours',
      '#/supervisor/interactions/int%2F2',
    ]) {
      expect(routeHash(parseRoute(hash))).toBe(hash);
    }
  });

  it('treats an unknown hash as the agent desktop and an unknown tab as the queues', () => {
    expect(parseRoute('#/nowhere')).toEqual({ area: 'desktop' });
    expect(parseRoute('#/supervisor/secret')).toEqual({ area: 'supervisor', tab: 'queues' });
  });
});
