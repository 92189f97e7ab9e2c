import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { randomId, testInfra, workspaceRoot } from '@mailroute/testing';
import { fixKafkajsRequestQueue } from './kafkajs-request-queue';

describe("kafkajs' idle request-queue loop", () => {
  it('is fixed for the kafkajs version installed (a new version needs the fix looked at again)', () => {
    expect(fixKafkajsRequestQueue()).toBe(true);
  });

  it('leaves a process that publishes and consumes on Node 24 without a TimeoutNegativeWarning', async () => {
    const { kafkaBrokers } = testInfra();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(__dirname, 'fixtures', 'idle-connections.ts'),
        kafkaBrokers.join(','),
        randomId('idle'),
        randomId('g'),
      ],
      {
        cwd: workspaceRoot,
        env: { ...process.env, TSX_TSCONFIG_PATH: path.join(workspaceRoot, 'tsconfig.base.json') },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const report = JSON.parse(output.trim().split('\n').pop() ?? '{}') as { received: boolean; warnings: string[] };
    expect(report.received).toBe(true);
    expect(report.warnings).not.toContain('TimeoutNegativeWarning');
  });
});
