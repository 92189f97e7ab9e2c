// Chromium for the browser tests: Debian's `chromium` package, installed with apt-get when missing.
// The browser tests drive it through playwright-core (libs/testing: launchChromium); no browser is
// ever downloaded by a package's install script.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';

/** Executables the Debian package (and Ubuntu's, and a hand install) put on PATH. */
export const CHROMIUM_COMMANDS = ['chromium', 'chromium-browser'];

/** Overrides the search: a Chromium (or Chrome) executable the tests use as it is. */
export const CHROMIUM_PATH_ENV = 'MAILROUTE_TEST_CHROMIUM';

/**
 * The Chromium executable: $MAILROUTE_TEST_CHROMIUM when set, else the first of CHROMIUM_COMMANDS on
 * PATH; null when there is none.
 * @param {{ env?: NodeJS.ProcessEnv }} [opts]
 * @returns {string | null}
 */
export function findChromium(opts = {}) {
  const env = opts.env ?? process.env;
  const override = env[CHROMIUM_PATH_ENV];
  if (override) return isExecutable(override) ? override : null;
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const command of CHROMIUM_COMMANDS) {
      const candidate = path.join(dir, command);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return null;
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The commands that install Debian's Chromium, in order. */
export const CHROMIUM_INSTALL_COMMANDS = [
  ['apt-get', ['update']],
  ['apt-get', ['install', '-y', 'chromium']],
];

/**
 * Makes sure Chromium is there: returns its path, installing Debian's `chromium` package with
 * apt-get (update, then install) when it is missing. Installing needs root; anyone else gets an
 * error that says what to run. Every command is logged before it runs.
 * Injectable for tests: `find`, `run` (spawn a command, returns its exit status) and `isRoot`.
 * @param {{
 *   log?: (line: string) => void,
 *   find?: () => string | null,
 *   run?: (command: string, args: string[]) => number,
 *   isRoot?: boolean,
 * }} [opts]
 * @returns {Promise<{ executable: string, installed: boolean }>}
 */
export async function ensureChromium(opts = {}) {
  const log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
  const find = opts.find ?? (() => findChromium());
  const found = find();
  if (found) return { executable: found, installed: false };
  const isRoot = opts.isRoot ?? (typeof process.getuid === 'function' && process.getuid() === 0);
  if (!isRoot) {
    throw new Error(
      'Chromium is missing and installing it needs root: run `sudo apt-get update && sudo apt-get install -y chromium` ' +
        `(or set ${CHROMIUM_PATH_ENV} to a Chromium executable), then run the tests again`,
    );
  }
  const run =
    opts.run ??
    ((command, args) =>
      spawnSync(command, args, {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      }).status ?? 1);
  for (const [command, args] of CHROMIUM_INSTALL_COMMANDS) {
    log(`chromium: running ${command} ${args.join(' ')}`);
    const status = run(command, args);
    if (status !== 0) throw new Error(`chromium: \`${command} ${args.join(' ')}\` failed with exit code ${status}`);
  }
  const installed = find();
  if (!installed) throw new Error('chromium: apt-get installed the chromium package, but no chromium executable is on PATH');
  log(`chromium: installed ${installed}`);
  return { executable: installed, installed: true };
}
