import { runCli } from './cli';

// The `mailroute` command: `npm run mailroute -- <command>` (see docs/cli.md).
const controller = new AbortController();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // A second Ctrl-C leaves at once; the first lets a long-running command (agent connect) stop cleanly.
    if (interrupted) process.exit(130);
    interrupted = true;
    controller.abort();
  });
}

void runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  stdin: process.stdin,
  env: process.env,
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code;
    // Open gRPC channels or stdin must not keep a finished command alive.
    process.stdout.write('', () => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
