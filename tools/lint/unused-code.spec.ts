import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * `npm test` runs tools/scripts/check-unused.mjs (knip) before the suites. These cases run that script
 * with the workspace's own knip.jsonc on a small fixture laid out like the workspace (an app's main,
 * a lib with a named index), to prove it fails on an unused export and on an unused dependency and
 * passes when everything is used.
 */
const workspaceRoot = path.resolve(__dirname, '..', '..');
const checkUnused = path.join(workspaceRoot, 'tools', 'scripts', 'check-unused.mjs');

interface Fixture {
  /** Extra source of the lib's module, after its used export. */
  libExtra?: string;
  /** Dependencies in package.json besides the one main.ts imports. */
  extraDependencies?: Record<string, string>;
}

function check(fixture: Fixture = {}): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailroute-unused-'));
  try {
    copyFileSync(path.join(workspaceRoot, 'knip.jsonc'), path.join(dir, 'knip.jsonc'));
    const write = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    };
    write(
      'package.json',
      JSON.stringify({ name: 'fixture', private: true, dependencies: { zod: '4.6.7', ...fixture.extraDependencies } }),
    );
    write(
      'apps/demo/src/main.ts',
      "import { z } from 'zod';\nimport { greet } from '../../../libs/demo/src/index';\n\nconsole.log(greet(z.string().parse('you')));\n",
    );
    write('libs/demo/src/index.ts', "export { greet } from './greeting';\n");
    write(
      'libs/demo/src/greeting.ts',
      `export function greet(name: string): string {\n  return \`hello \${name}\`;\n}\n${fixture.libExtra ?? ''}`,
    );
    const run = spawnSync(process.execPath, [checkUnused, dir], { cwd: workspaceRoot, encoding: 'utf8' });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('unused-code check', () => {
  it('passes when every file, export and dependency is used', () => {
    const result = check();
    expect(result).toEqual({ status: 0, output: expect.any(String) });
  });

  it('fails an export that nothing imports, naming it and the fix', () => {
    const result = check({ libExtra: "\nexport const farewell = 'bye';\n" });
    expect(result.status).toBe(1);
    expect(result.output).toContain('farewell');
    expect(result.output).toContain('libs/demo/src/greeting.ts');
    expect(result.output).toContain('knip.jsonc');
  });

  it('fails a dependency that nothing imports, naming it', () => {
    const result = check({ extraDependencies: { 'abort-controller-x': '0.5.0' } });
    expect(result.status).toBe(1);
    expect(result.output).toContain('abort-controller-x');
  });
});
