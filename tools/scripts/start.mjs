#!/usr/bin/env node
// `npm start`: runs mailroute's four services and the graph sandbox (Entra ID + Graph emulator with
// the demo tenant) on this machine, each as its own process on its default port on 127.0.0.1, until
// Ctrl-C (SIGINT) or SIGTERM, which drains every one of them.
//
// Until the single-process embedded default exists, the services that need them share a local
// Apache Kafka broker and FerretDB started by tools/test-infra (Java 17 and Go 1.24 needed, see the
// README); auth-broker and mailbox-fetch keep their embedded stores under .cache/. Service tokens
// for mailbox-fetch and outbound-send → auth-broker are minted for each run.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { startAll, stopAll } = await import(path.join(root, 'tools', 'test-infra', 'index.mjs'));

const mint = () => {
  const token = randomBytes(24).toString('base64url');
  return { token, sha256: createHash('sha256').update(token).digest('hex') };
};
const fetchToken = mint();
const sendToken = mint();

console.error('mailroute: starting the local Kafka broker and FerretDB (first run builds them: about a minute)');
const infra = await startAll();

const services = [
  {
    name: 'auth-broker',
    port: 50051,
    env: { AUTH_BROKER_SERVICE_TOKENS: `mailbox-fetch:${fetchToken.sha256},outbound-send:${sendToken.sha256}` },
  },
  {
    name: 'mailbox-fetch',
    port: 50052,
    env: { MAILBOX_FETCH_AUTH_BROKER_TOKEN: fetchToken.token, MAILBOX_FETCH_KAFKA_BROKERS: infra.kafka.brokers },
  },
  {
    name: 'interaction-router',
    port: 50053,
    env: { ROUTER_MONGODB_URL: infra.ferretdb.url, ROUTER_KAFKA_BROKERS: infra.kafka.brokers },
  },
  { name: 'outbound-send', port: 50054, env: {} },
  { name: 'graph-sandbox', env: {} },
];

const children = services.map(({ name, port, env }) => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps', name, 'src', 'main.ts')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      ...(port ? { GRPC_PORT: process.env[`${name.toUpperCase().replaceAll('-', '_')}_GRPC_PORT`] ?? String(port) } : {}),
      ...env,
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
  await stopAll(infra).catch((error) => console.error(`mailroute: stopping Kafka/FerretDB failed: ${error.message}`));
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
