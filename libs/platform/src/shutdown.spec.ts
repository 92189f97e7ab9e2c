import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { createShutdown } from './shutdown';

const silent = createLogger({ name: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });

describe('createShutdown', () => {
  it('runs steps in order, continues past a failing or hanging step, and runs once', async () => {
    const order: string[] = [];
    const shutdown = createShutdown(
      silent,
      [
        { name: 'server', run: () => void order.push('server') },
        { name: 'consumer', run: () => new Promise(() => order.push('consumer (hangs)')) },
        { name: 'producer', run: () => Promise.reject(new Error('flush failed')).finally(() => order.push('producer')) },
        { name: 'database', run: async () => void order.push('database') },
      ],
      50,
    );
    const [first, second] = await Promise.all([shutdown.run('SIGTERM'), shutdown.run('SIGINT')]);
    expect(order).toEqual(['server', 'consumer (hangs)', 'producer', 'database']);
    expect(first).toEqual({ ok: false });
    expect(second).toBe(first);
  });
});
