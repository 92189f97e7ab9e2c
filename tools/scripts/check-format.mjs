#!/usr/bin/env node
// The formatting check of `npm test`: Prettier with the workspace's .prettierrc.json and .prettierignore.
// With no arguments it checks every source file of the workspace; with file arguments, only those (the
// formatting spec uses that to prove a badly formatted file fails). Exit code 0 = formatted, 1 = not.
// Fix what it reports with `npm run format`.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const sourcePatterns = ['**/*.{ts,mts,cts,mjs,cjs,js,json}'];
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const prettier = path.join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
const files = process.argv.slice(2);
const run = spawnSync(
  process.execPath,
  [
    prettier,
    '--check',
    '--config',
    path.join(root, '.prettierrc.json'),
    '--ignore-path',
    path.join(root, '.prettierignore'),
    ...(files.length > 0 ? files : sourcePatterns),
  ],
  { cwd: root, stdio: 'inherit' },
);
if (run.status !== 0) console.error('formatting: run `npm run format` to fix the files listed above');
process.exit(run.status ?? 1);
