import { spawn } from 'node:child_process';
import path from 'node:path';
import { randomId, testInfra, waitFor, workspaceRoot } from '@mailroute/testing';
import { KafkaEventBus, type DeliveredMessage } from '../index';

describe('KafkaEventBus when a consumer process is killed', () => {
  it('redelivers the uncommitted message to the next member of the group, in order', async () => {
    const { kafkaBrokers } = testInfra();
    const topic = randomId('crash');
    const groupId = randomId('g');
    const producer = new KafkaEventBus({ brokers: kafkaBrokers, clientId: 'crash-test' });
    await producer.ensureTopics([{ topic, partitions: 1 }]);
    await producer.publish(
      topic,
      ['m1', 'm2', 'm3'].map((value) => ({ key: 'mailbox-1', value: Buffer.from(value) })),
    );

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'fixtures', 'crashing-consumer.ts'), kafkaBrokers.join(','), topic, groupId, 'm2'],
      {
        cwd: workspaceRoot,
        env: { ...process.env, TSX_TSCONFIG_PATH: path.join(workspaceRoot, 'tsconfig.base.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await waitFor(() => lines.some((line) => line.startsWith('HOLDING m2')), {
        timeoutMs: 60_000,
        description: 'the child to hold m2',
      });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(lines).toContain('DONE m1');

    const survivor = new KafkaEventBus({ brokers: kafkaBrokers, clientId: 'survivor', sessionTimeoutMs: 6_000 });
    const received: DeliveredMessage[] = [];
    try {
      await survivor.subscribe({ groupId, topics: [topic], handler: async (message) => void received.push(message) });
      await waitFor(() => received.some((m) => m.value.toString() === 'm3'), {
        timeoutMs: 60_000,
        description: 'm2 and m3 redelivered',
      });
      const values = received.map((m) => m.value.toString());
      // m1 may come again if the kill beat its commit (at-least-once); m2 and m3 must, in order.
      expect(values.filter((v) => v !== 'm1')).toEqual(['m2', 'm3']);
    } finally {
      await survivor.close();
      await producer.close();
    }
  });
});
