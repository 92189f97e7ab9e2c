import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { demoSequenceFile, openDemoSeedSequence } from './demo-seed-sequence';

describe('the demo traffic seed sequence', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'demo-seeds-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('continues where the last run stopped, so a restart never repeats a seed (a repeated seed is the same e-mail)', () => {
    const first = openDemoSeedSequence(dir);
    const used = [first.next(), first.next(), first.next()];
    const restarted = openDemoSeedSequence(dir);
    const next = restarted.next();
    expect(used.includes(next)).toBe(false);
    expect(next).toBe(Math.max(...used) + 1);
    expect(statSync(path.join(dir, demoSequenceFile)).mode & 0o777).toBe(0o600);
  });
});
