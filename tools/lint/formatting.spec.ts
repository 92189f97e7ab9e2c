import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * `npm test` runs tools/scripts/check-format.mjs before anything else. These cases run that script on
 * fixture files, to prove it fails on a formatting difference and passes formatted code.
 */
const workspaceRoot = path.resolve(__dirname, '..', '..');
const checkFormat = path.join(workspaceRoot, 'tools', 'scripts', 'check-format.mjs');

function check(source: string): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailroute-format-'));
  try {
    const file = path.join(dir, 'fixture.ts');
    writeFileSync(file, source);
    const run = spawnSync(process.execPath, [checkFormat, file], { cwd: workspaceRoot, encoding: 'utf8' });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('formatting check', () => {
  it('fails a file Prettier would change, naming the file and the fix', () => {
    const result = check('export const answer  =  {a:1,\n b:"two"}\n');
    expect(result.status).toBe(1);
    expect(result.output).toContain('fixture.ts');
    expect(result.output).toContain('npm run format');
  });

  it('passes a formatted file (single quotes, trailing commas, print width 130)', () => {
    const result = check("export const answer = { a: 1, b: 'two' };\n");
    expect(result).toEqual({ status: 0, output: expect.any(String) });
  });

  it('fails a line over the print width that Prettier would break', () => {
    const long = `export const list = [${Array.from({ length: 30 }, (_, i) => `'item-${i}'`).join(', ')}];\n`;
    expect(long.length).toBeGreaterThan(130);
    expect(check(long).status).toBe(1);
  });
});
