#!/usr/bin/env node
// `npm start`: runs mailroute's services and the graph sandbox (Entra ID + Graph emulator with the
// demo tenant) on this machine, each as its own process on its default port on 127.0.0.1, until
// Ctrl-C (SIGINT) or SIGTERM, which drains every one of them.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const services = [
  { name: 'auth-broker', port: 50051 },
  { name: 'mailbox-fetch', port: 50052 },
  { name: 'interaction-router', port: 50053 },
  { name: 'outbound-send', port: 50054 },
  { name: 'graph-sandbox' },
];

const children = services.map(({ name, port }) => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps', name, 'src', 'main.ts')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      ...(port ? { GRPC_PORT: process.env[`${name.toUpperCase().replaceAll('-', '_')}_GRPC_PORT`] ?? String(port) } : {}),
      TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.base.json'),
    },
  });
  return { name, child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1))) };
});

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  for (const { child } of children) if (child.exitCode === null) child.kill(signal);
  const codes = await Promise.all(children.map((c) => c.exited));
  process.exit(codes.every((code) => code === 0) ? 0 : 1);
}
process.on('SIGINT', () => void stop('SIGTERM'));
process.on('SIGTERM', () => void stop('SIGTERM'));
// If one service dies on its own (bad config, crash), stop the rest rather than run half a system.
for (const { name, exited } of children) {
  void exited.then((code) => {
    if (stopping) return;
    console.error(`mailroute: ${name} exited with code ${code}; stopping the other services`);
    void stop('SIGTERM');
  });
}
