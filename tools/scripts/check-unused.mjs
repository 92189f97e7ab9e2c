#!/usr/bin/env node
// The unused-code check of `npm test`: knip with the workspace's knip.jsonc — files no entry point
// reaches, exports nothing imports, dependencies nothing imports. With no argument it checks the
// workspace; with a directory argument, that directory and its own knip config (the unused-code spec
// uses that to prove an unused export or dependency fails). Exit code 0 = nothing unused, 1 = findings.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const knip = path.join(root, 'node_modules', 'knip', 'bin', 'knip.js');
const directory = path.resolve(process.argv[2] ?? root);
const run = spawnSync(process.execPath, [knip, '--no-progress', '--directory', directory], { cwd: directory, stdio: 'inherit' });
if (run.status !== 0) console.error('unused code: remove what is listed above, or say in knip.jsonc why it stays');
process.exit(run.status ?? 1);
