import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { workspaceRoot } from '@mailroute/testing';

interface ChromiumModule {
  findChromium(options?: { env?: NodeJS.ProcessEnv }): string | null;
  ensureChromium(options?: {
    log?: (line: string) => void;
    find?: () => string | null;
    run?: (command: string, args: string[]) => number;
    isRoot?: boolean;
  }): Promise<{ executable: string; installed: boolean }>;
}

const load = async (): Promise<ChromiumModule> =>
  (await import(pathToFileURL(path.join(workspaceRoot, 'tools', 'test-infra', 'chromium.mjs')).href)) as ChromiumModule;

/**
 * tools/test-infra/chromium.mjs: the browser tests' Chromium is found on PATH, or installed from
 * Debian's packages (apt-get update, then apt-get install -y chromium) as root, with a clear error
 * for anyone else. The commands are injected here, so the install path is proven on a machine that
 * has Chromium already.
 */
describe('Chromium for the browser tests', () => {
  it('finds a chromium executable on PATH, or none', async () => {
    const { findChromium } = await load();
    const dir = mkdtempSync(path.join(tmpdir(), 'chromium-find-'));
    try {
      expect(findChromium({ env: { PATH: dir } })).toBeNull();
      const executable = path.join(dir, 'chromium');
      writeFileSync(executable, '#!/bin/sh\n', { mode: 0o755 });
      expect(findChromium({ env: { PATH: dir } })).toBe(executable);
      expect(findChromium({ env: { PATH: '', MAILROUTE_TEST_CHROMIUM: executable } })).toBe(executable);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("installs Debian's chromium with apt-get when it is missing and this is root, logging each command", async () => {
    const { ensureChromium } = await load();
    const ran: string[] = [];
    const logged: string[] = [];
    let installed = false;
    const result = await ensureChromium({
      isRoot: true,
      find: () => (installed ? '/usr/bin/chromium' : null),
      run: (command, args) => {
        ran.push([command, ...args].join(' '));
        if (args[0] === 'install') installed = true;
        return 0;
      },
      log: (line) => logged.push(line),
    });
    expect(ran).toEqual(['apt-get update', 'apt-get install -y chromium']);
    expect(logged).toEqual([
      'chromium: running apt-get update',
      'chromium: running apt-get install -y chromium',
      'chromium: installed /usr/bin/chromium',
    ]);
    expect(result).toEqual({ executable: '/usr/bin/chromium', installed: true });
  });

  it('runs nothing when chromium is there', async () => {
    const { ensureChromium } = await load();
    const ran: string[] = [];
    const result = await ensureChromium({
      isRoot: true,
      find: () => '/usr/bin/chromium',
      run: (command) => ran.push(command) && 0,
    });
    expect(ran).toEqual([]);
    expect(result.installed).toBe(false);
  });

  it('says what to run when chromium is missing and this is not root', async () => {
    const { ensureChromium } = await load();
    await expect(ensureChromium({ isRoot: false, find: () => null, run: () => 0 })).rejects.toThrow(
      /Chromium is missing and installing it needs root: run `sudo apt-get update && sudo apt-get install -y chromium`/,
    );
  });

  it('stops at the first failing apt-get command', async () => {
    const { ensureChromium } = await load();
    const ran: string[] = [];
    await expect(
      ensureChromium({
        isRoot: true,
        find: () => null,
        log: () => undefined,
        run: (command, args) => (ran.push(args[0] ?? ''), 100),
      }),
    ).rejects.toThrow('chromium: `apt-get update` failed with exit code 100');
    expect(ran).toEqual(['update']);
  });
});
