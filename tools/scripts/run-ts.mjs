#!/usr/bin/env node
// Runs a TypeScript entry point on this Node (24, pinned by the project) with the @mailroute/*
// path aliases, in the same process, so signals reach the service directly.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node tools/scripts/run-ts.mjs <entry.ts> [args…]');
  process.exit(2);
}
const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(entry), ...args], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.base.json') },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
