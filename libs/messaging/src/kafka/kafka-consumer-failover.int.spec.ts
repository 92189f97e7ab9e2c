import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomId, testInfra, waitFor, workspaceRoot } from '@mailroute/testing';
import { KafkaEventBus, type Subscription } from '../index';

/**
 * Failover of a consumer group member (issue 18): two members share a two-partition topic, one in a
 * child process. When the child is killed its partition is consumed by the survivor once the
 * session timeout has passed without a heartbeat; when it stops cleanly it leaves the group at once.
 * Neither waits on a clock: each waits, with `waitFor`, for what must happen, within a limit that
 * the configured session timeout meets and kafkajs' own default of 30 s (or a long configured one)
 * would not.
 */
describe('KafkaEventBus consumer group failover', () => {
  const { kafkaBrokers } = testInfra();
  const buses: KafkaEventBus[] = [];
  const children: ChildProcess[] = [];

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.allSettled(buses.splice(0).map((bus) => bus.close()));
  });

  /** The survivor (in this process) and the child member, both assigned one partition of a fresh topic. */
  async function twoMembers(sessionTimeoutMs: number) {
    const topic = randomId('failover');
    const groupId = randomId('g');
    const survivorBus = new KafkaEventBus({ brokers: kafkaBrokers, clientId: 'survivor', sessionTimeoutMs });
    buses.push(survivorBus);
    await survivorBus.ensureTopics([{ topic, partitions: 2 }]);
    /** value → partition of what the survivor consumed. */
    const received = new Map<string, number>();
    const survivor: Subscription = await survivorBus.subscribe({
      groupId,
      topics: [topic],
      handler: async (message) => void received.set(message.value.toString(), message.partition),
    });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(__dirname, 'fixtures', 'group-member.ts'),
        kafkaBrokers.join(','),
        topic,
        groupId,
        String(sessionTimeoutMs),
      ],
      {
        cwd: workspaceRoot,
        env: { ...process.env, TSX_TSCONFIG_PATH: path.join(workspaceRoot, 'tsconfig.base.json') },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    const lines: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
    const survivorPartitions = () => survivor.assignments().flatMap((a) => a.partitions);
    await waitFor(() => childPartitions(lines).length === 1 && survivorPartitions().length === 1, {
      timeoutMs: 90_000,
      description: 'the two members to hold one partition each',
    });
    const childPartition = childPartitions(lines)[0];
    return { topic, survivorBus, received, child, childPartition, survivorPartitions };
  }

  /** Publishes 40 messages with distinct keys, so the partitioner puts some on each partition. */
  async function publishToBoth(bus: KafkaEventBus, topic: string, tag: string): Promise<string[]> {
    const values = Array.from({ length: 40 }, (_, i) => `${tag}-${i}`);
    await bus.publish(
      topic,
      values.map((value) => ({ key: value, value: Buffer.from(value) })),
    );
    return values;
  }

  it('a killed member: the survivor consumes its partition within the configured session timeout (6 s) plus a margin', async () => {
    const sessionTimeoutMs = 6_000;
    const { topic, survivorBus, received, child, childPartition, survivorPartitions } = await twoMembers(sessionTimeoutMs);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const values = await publishToBoth(survivorBus, topic, 'after-kill');
    // The old fixed 30 s session (kafkajs' default) would not be over within this limit.
    await waitFor(() => values.every((v) => received.has(v)), {
      timeoutMs: sessionTimeoutMs + 15_000,
      intervalMs: 100,
      description: "the killed member's partition consumed by the survivor",
    });
    expect(survivorPartitions()).toEqual([0, 1]);
    expect([...received.values()]).toContain(childPartition);
  });

  it('a member that stops cleanly leaves the group at once: the survivor takes its partition long before the session timeout', async () => {
    const sessionTimeoutMs = 120_000;
    const { topic, survivorBus, received, child, childPartition, survivorPartitions } = await twoMembers(sessionTimeoutMs);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const values = await publishToBoth(survivorBus, topic, 'after-stop');
    // Without a LeaveGroup the partition would stay with the gone member for the 120 s session.
    await waitFor(() => values.every((v) => received.has(v)), {
      timeoutMs: 30_000,
      intervalMs: 100,
      description: "the stopped member's partition consumed by the survivor",
    });
    expect(survivorPartitions()).toEqual([0, 1]);
    expect([...received.values()]).toContain(childPartition);
  });
});

/** The child's partitions as it last reported them. */
function childPartitions(lines: readonly string[]): number[] {
  const last = [...lines].reverse().find((line) => line.startsWith('ASSIGNED '));
  return last ? (JSON.parse(last.slice('ASSIGNED '.length)) as number[]) : [];
}
