import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeEventBusContract, randomId, waitFor, workspaceRoot } from '@mailroute/testing';
import { InProcessBroker, InProcessEventBus, SqliteBrokerJournal, type DeliveredMessage } from '../index';

const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fileFor = () => path.join(dir, `${randomId('bus')}.sqlite`);

// The contract holds with a journal: every bus of one test shares one journaled broker.
let contractBroker: InProcessBroker | undefined;
beforeEach(() => {
  contractBroker?.close();
  contractBroker = new InProcessBroker({ journal: new SqliteBrokerJournal({ path: fileFor() }) });
});
afterAll(() => contractBroker?.close());
describeEventBusContract('in-process with a SQLite journal', {
  createBus: () => new InProcessEventBus({ broker: contractBroker }),
  timeoutMs: 5_000,
});

const text = (message: DeliveredMessage) => message.value.toString();
const openBus = (file: string, retentionMs?: number, clock?: () => number) => {
  const broker = new InProcessBroker({
    journal: new SqliteBrokerJournal({
      path: file,
      ...(retentionMs === undefined ? {} : { retentionMs }),
      ...(clock ? { clock } : {}),
    }),
  });
  return { broker, bus: new InProcessEventBus({ broker }) };
};

describe('InProcessBroker with a SQLite journal across restarts', () => {
  it('keeps published messages and committed offsets: a restarted group resumes after its last commit and redelivers the message in flight', async () => {
    const file = fileFor();
    const first = openBus(file);
    await first.bus.ensureTopics([{ topic: 'inbound', partitions: 2 }]);
    await first.bus.publish(
      'inbound',
      ['a', 'b', 'c', 'd'].map((value) => ({ key: 'mailbox-1', value: Buffer.from(value) })),
    );
    const seen: string[] = [];
    let inFlight!: () => void;
    const stuck = new Promise<void>((resolve) => (inFlight = resolve));
    const subscription = await first.bus.subscribe({
      groupId: 'router',
      topics: ['inbound'],
      handler: async (message, signal) => {
        if (text(message) === 'c') {
          inFlight();
          // "Crash" while handling c: never finishes; the close below aborts it without a commit.
          await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
        }
        seen.push(text(message));
      },
    });
    await stuck;
    await subscription.close({ graceMs: 50 });
    await first.bus.close();
    first.broker.close();
    expect(seen).toEqual(['a', 'b']);

    const second = openBus(file);
    await second.bus.publish('inbound', { key: 'mailbox-1', value: Buffer.from('e') });
    const after: DeliveredMessage[] = [];
    await second.bus.subscribe({ groupId: 'router', topics: ['inbound'], handler: async (message) => void after.push(message) });
    await waitFor(() => after.length === 3, { timeoutMs: 5_000, description: 'c, d and e' });
    expect(after.map(text)).toEqual(['c', 'd', 'e']);
    expect(after.map((m) => Number(m.offset))).toEqual([2, 3, 4]);
    // A new group still reads the whole log from the beginning.
    const fresh: string[] = [];
    await second.bus.subscribe({
      groupId: 'audit',
      topics: ['inbound'],
      handler: async (message) => void fresh.push(text(message)),
    });
    await waitFor(() => fresh.length === 5, { timeoutMs: 5_000 });
    expect(fresh).toEqual(['a', 'b', 'c', 'd', 'e']);
    await second.bus.close();
    second.broker.close();
  });

  it('prunes only messages past retention that every group consumed, and keeps offsets increasing', async () => {
    const file = fileFor();
    let now = 1_000_000;
    const first = openBus(file, 60_000, () => now);
    await first.bus.publish(
      't',
      ['1', '2', '3', '4'].map((value) => ({ key: 'k', value: Buffer.from(value) })),
    );
    const a: string[] = [];
    const b: string[] = [];
    await first.bus.subscribe({ groupId: 'fast', topics: ['t'], handler: async (m) => void a.push(text(m)) });
    await first.bus.subscribe({ groupId: 'slow', topics: ['t'], handler: async (m) => void (text(m) <= '2' && b.push(text(m))) });
    await waitFor(() => a.length === 4 && b.length === 2, { timeoutMs: 5_000 });
    await first.bus.close();
    first.broker.close();

    now += 120_000;
    const second = openBus(file, 60_000, () => now);
    const partition = second.broker.topic('t').find((log) => log.messages.length > 0);
    // Both groups passed every message: all but the partition's last one are gone.
    expect(partition?.messages.map((m) => m.value.toString())).toEqual(['4']);
    expect(partition?.base).toBe(3);
    await second.bus.publish('t', { key: 'k', value: Buffer.from('5') });
    const late: DeliveredMessage[] = [];
    await second.bus.subscribe({ groupId: 'fast', topics: ['t'], handler: async (m) => void late.push(m) });
    await waitFor(() => late.length === 1, { timeoutMs: 5_000 });
    expect(late.map((m) => [text(m), m.offset])).toEqual([['5', '4']]);
    await second.bus.close();
    second.broker.close();
  });

  it('loses no acknowledged publish and no commit when the process is killed', async () => {
    const file = fileFor();
    const topic = 'crash';
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'fixtures', 'journaled-worker.ts'), file, topic, 'g'],
      {
        cwd: workspaceRoot,
        env: { ...process.env, TSX_TSCONFIG_PATH: path.join(workspaceRoot, 'tsconfig.base.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let buffer = '';
    let published = -1;
    const consumed: number[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, n] = line.split(' ');
        if (kind === 'PUBLISHED') published = Number(n);
        if (kind === 'CONSUMED') consumed.push(Number(n));
      }
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await waitFor(() => published >= 2_000 && consumed.length >= 500, {
        timeoutMs: 60_000,
        description: 'the worker to publish and consume',
      });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }

    const reopened = openBus(file);
    const log = reopened.broker.topic(topic)[0];
    const values = log?.messages.map((m) => Number(m.value.toString())) ?? [];
    // Every publish the worker saw resolve is there, once and in order (a last one may be on disk unacknowledged).
    expect(values.length).toBeGreaterThanOrEqual(published + 1);
    expect(values).toEqual(Array.from({ length: values.length }, (_, i) => i));
    // The group resumes right after a message it had finished: nothing it finished before its last printed one is redelivered.
    // A sentinel after the log: the group may have finished everything before the kill, and then
    // the sentinel is all it gets.
    await reopened.bus.publish(topic, { key: 'k', value: Buffer.from(String(values.length)) });
    const redelivered: number[] = [];
    await reopened.bus.subscribe({
      groupId: 'g',
      topics: [topic],
      handler: async (m) => void redelivered.push(Number(m.value.toString())),
    });
    await waitFor(() => redelivered.at(-1) === values.length, {
      timeoutMs: 60_000,
      description: 'the rest of the log and the sentinel',
    });
    const lastDone = consumed.at(-1) ?? -1;
    expect(redelivered[0]).toBeGreaterThanOrEqual(lastDone); // at-least-once: the last one may come again
    expect(redelivered[0]).toBeLessThanOrEqual(lastDone + 1);
    expect(redelivered).toEqual(Array.from({ length: redelivered.length }, (_, i) => (redelivered[0] ?? 0) + i));
    await reopened.bus.close();
    reopened.broker.close();
  });
});
