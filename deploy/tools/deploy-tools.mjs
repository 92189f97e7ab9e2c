// The tools the offline manifest validation needs, installed from the package registries only and
// cached under <repo>/.cache/deploy-tools (override with DEPLOY_TOOLS_CACHE_DIR):
//
//   kustomize-<version>/kustomize       `go install sigs.k8s.io/kustomize/kustomize/v5@<version>`
//                                        (Go module proxy; Go is already a test prerequisite)
//   validator-<hash>/                    a Python venv with kubernetes-validate (PyPI), which ships
//                                        the Kubernetes JSON schemas inside the wheel
//
// Each install writes `.installed.json` only after it succeeded, keyed by the pinned version (and
// the requirements file's hash), so a second call is a no-op of a few milliseconds. Missing
// toolchains fail with a message naming what is missing and how to get it.
//
// Plain ESM for Node 24, no build step: `node deploy/tools/deploy-tools.mjs install`.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE_DIR = path.resolve(process.env.DEPLOY_TOOLS_CACHE_DIR || path.join(REPO_ROOT, '.cache', 'deploy-tools'));

/**
 * Pinned kustomize release (a Go module version): the newest whose go.mod asks for no more than Go
 * 1.24, the Go the test infrastructure requires (v5.8.2 wants 1.26, v5.8.3 wants 1.27).
 */
export const KUSTOMIZE_VERSION = 'v5.8.1';
/** Pinned Python requirements of the schema validator (kubernetes-validate and its dependencies). */
export const VALIDATOR_REQUIREMENTS = path.join(REPO_ROOT, 'deploy', 'tools', 'requirements.txt');
/** The Python script that validates rendered manifests against the schemas. */
export const VALIDATOR_SCRIPT = path.join(REPO_ROOT, 'deploy', 'tools', 'validate-schemas.py');
const MIN_GO = [1, 24];
const MIN_PYTHON = [3, 9];

class MissingToolError extends Error {}

function log(line) {
  if (process.env.DEPLOY_TOOLS_QUIET !== '1') process.stderr.write(`deploy-tools: ${line}\n`);
}

function onPath(command) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function readMarker(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, '.installed.json'), 'utf8'));
  } catch {
    return null;
  }
}

function writeMarker(dir, value) {
  fs.writeFileSync(
    path.join(dir, '.installed.json'),
    JSON.stringify({ ...value, installedAt: new Date().toISOString() }, null, 2),
  );
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw result.error;
  return result;
}

function tail(text, lines = 30) {
  return (text || '').trimEnd().split('\n').slice(-lines).join('\n');
}

function seconds(start) {
  return `${((performance.now() - start) / 1000).toFixed(1)}s`;
}

function checkGo() {
  const hint = `kustomize is built from the Go module proxy with Go ${MIN_GO.join('.')}+: install it from the Go downloads page or your package manager (Debian bookworm's golang is too old), then re-run.`;
  const go = onPath('go');
  if (!go) throw new MissingToolError(`\`go\` not found on PATH. ${hint}`);
  const result = run(go, ['env', 'GOVERSION']);
  const match = result.stdout.trim().match(/^go(\d+)\.(\d+)/);
  if (result.status !== 0 || !match) throw new MissingToolError(`cannot run \`go env GOVERSION\`: ${result.stderr}. ${hint}`);
  const [major, minor] = [Number(match[1]), Number(match[2])];
  if (major < MIN_GO[0] || (major === MIN_GO[0] && minor < MIN_GO[1]))
    throw new MissingToolError(`${go} is ${result.stdout.trim()}, too old. ${hint}`);
  return go;
}

function checkPython() {
  const hint = `the schema validator runs in a Python ${MIN_PYTHON.join('.')}+ venv: install python3 with its venv module (Debian: apt-get install python3 python3-venv), then re-run.`;
  const python = onPath('python3');
  if (!python) throw new MissingToolError(`\`python3\` not found on PATH. ${hint}`);
  const result = run(python, ['-c', 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])']);
  if (result.status !== 0) throw new MissingToolError(`${python} cannot create a venv (${tail(result.stderr, 3)}). ${hint}`);
  const [major, minor] = result.stdout.trim().split('.').map(Number);
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1]))
    throw new MissingToolError(`${python} is Python ${result.stdout.trim()}, too old. ${hint}`);
  return python;
}

/**
 * Installs kustomize (cached) and returns the binary's path.
 * @returns {{ binary: string, version: string, cached: boolean }}
 */
export function ensureKustomize() {
  const dir = path.join(CACHE_DIR, `kustomize-${KUSTOMIZE_VERSION}`);
  const binary = path.join(dir, 'kustomize');
  const marker = readMarker(dir);
  if (marker?.version === KUSTOMIZE_VERSION && fs.existsSync(binary)) return { binary, version: KUSTOMIZE_VERSION, cached: true };
  const go = checkGo();
  const start = performance.now();
  log(`installing kustomize ${KUSTOMIZE_VERSION} with go install (first run only: 20 s to 90 s, depending on Go's caches)`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const result = run(go, ['install', '-trimpath', `sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}`], {
    env: { ...process.env, GOBIN: dir, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
  });
  if (result.status !== 0 || !fs.existsSync(binary)) {
    throw new Error(`go install of kustomize ${KUSTOMIZE_VERSION} failed (exit ${result.status}):\n${tail(result.stderr)}`);
  }
  writeMarker(dir, { version: KUSTOMIZE_VERSION });
  log(`kustomize ${KUSTOMIZE_VERSION} installed in ${seconds(start)}: ${binary}`);
  return { binary, version: KUSTOMIZE_VERSION, cached: false };
}

/**
 * Creates (cached) the validator venv from the pinned requirements and returns its python.
 * @returns {{ python: string, key: string, cached: boolean }}
 */
export function ensureValidator() {
  const requirements = fs.readFileSync(VALIDATOR_REQUIREMENTS);
  const key = createHash('sha256').update(requirements).digest('hex').slice(0, 12);
  const dir = path.join(CACHE_DIR, `validator-${key}`);
  const python = path.join(dir, 'bin', 'python');
  const marker = readMarker(dir);
  if (marker?.key === key && fs.existsSync(python)) return { python, key, cached: true };
  const systemPython = checkPython();
  const start = performance.now();
  log(`creating the schema validator venv (kubernetes-validate from PyPI; first run only): ${dir}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  let result = run(systemPython, ['-m', 'venv', dir]);
  if (result.status !== 0)
    throw new MissingToolError(`python3 -m venv failed:\n${tail(result.stderr)}\n(Debian: apt-get install python3-venv)`);
  result = run(python, [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--no-input',
    '--quiet',
    '--only-binary=:all:',
    '-r',
    VALIDATOR_REQUIREMENTS,
  ]);
  if (result.status !== 0) {
    throw new Error(
      `pip install -r ${path.relative(REPO_ROOT, VALIDATOR_REQUIREMENTS)} failed (exit ${result.status}):\n${tail(result.stderr || result.stdout)}`,
    );
  }
  writeMarker(dir, { key });
  log(`validator venv ready in ${seconds(start)}`);
  return { python, key, cached: false };
}

/** Both tools; the cheap checks of a warm cache take milliseconds. */
export function ensureAll() {
  return { kustomize: ensureKustomize(), validator: ensureValidator() };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const command = process.argv[2] ?? 'install';
  if (command !== 'install') {
    console.error('usage: node deploy/tools/deploy-tools.mjs install');
    process.exit(2);
  }
  try {
    const { kustomize, validator } = ensureAll();
    console.log(`KUSTOMIZE=${kustomize.binary}`);
    console.log(`VALIDATOR_PYTHON=${validator.python}`);
  } catch (error) {
    console.error(`deploy-tools: ${error instanceof Error ? error.message : error}`);
    process.exit(error instanceof MissingToolError ? 3 : 1);
  }
}
