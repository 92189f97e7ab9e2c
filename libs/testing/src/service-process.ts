import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The workspace root, from this file's place in libs/testing/src. */
export const workspaceRoot = path.resolve(__dirname, '..', '..', '..');

export interface ServiceProcess {
  child: ChildProcess;
  /** Every line the process wrote to stdout and stderr so far. */
  output: string[];
  /** Resolves with the exit code (or 128 + signal number semantics as `signal`). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The bound gRPC port, read from the service's "listening" log line. */
  port(): Promise<number>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a service's `main.ts` as a real child process on this Node, as an operator would run it.
 * `env` is added to a minimal environment (PATH, HOME) so a test controls every variable.
 */
export function startServiceProcess(entry: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(workspaceRoot, entry)], {
    cwd: workspaceRoot,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      TSX_TSCONFIG_PATH: path.join(workspaceRoot, 'tsconfig.base.json'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer): void => {
    output.push(
      ...chunk
        .toString()
        .split('\n')
        .filter((line) => line.length > 0),
    );
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const listener of listeners) listener();
      resolve({ code, signal });
    });
  });

  const port = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        for (const line of output) {
          try {
            const entryLine = JSON.parse(line) as { msg?: string; port?: number };
            if (entryLine.msg?.endsWith('listening') && typeof entryLine.port === 'number') {
              listeners.delete(check);
              return resolve(entryLine.port);
            }
          } catch {
            // not a JSON log line
          }
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          listeners.delete(check);
          reject(new Error(`service exited before listening:\n${output.join('\n')}`));
        }
      };
      listeners.add(check);
      check();
    });

  return {
    child,
    output,
    exited,
    port,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
