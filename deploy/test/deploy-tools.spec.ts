import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDeployTools, repoRoot } from '../src/tooling';

const installer = path.join(repoRoot, 'deploy', 'tools', 'deploy-tools.mjs');

describe('deploy/tools/deploy-tools.mjs', () => {
  it('is idempotent: a second install reuses the cache and prints the same tools', () => {
    const first = ensureDeployTools();
    const started = performance.now();
    const again = spawnSync(process.execPath, [installer, 'install'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, DEPLOY_TOOLS_QUIET: '1' },
    });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`KUSTOMIZE=${first.kustomize}\n`);
    expect(again.stdout).toContain(`VALIDATOR_PYTHON=${first.validatorPython}\n`);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('fails with exit code 3 and names the missing toolchain when Go is not installed', () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'deploy-tools-'));
    try {
      const result = spawnSync(process.execPath, [installer, 'install'], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { PATH: path.join(cache, 'empty-bin'), DEPLOY_TOOLS_CACHE_DIR: cache },
      });
      expect(result.status).toBe(3);
      expect(result.stderr).toContain('`go` not found on PATH');
      expect(result.stderr).toContain('Go 1.24+');
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
