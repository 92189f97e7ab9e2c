import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { K8sObject } from './k8s-object';

/** The repository root, from this file's place in deploy/src. */
export const repoRoot = path.resolve(__dirname, '..', '..');
/** The Kustomize overlays an operator applies. */
export const overlays = ['production', 'dev'] as const;
export type Overlay = (typeof overlays)[number];
/**
 * Kubernetes minor versions the manifests are validated against: the oldest supported (gRPC probes
 * are GA since 1.27, the preStop `sleep` action is on by default since 1.30) and the newest the
 * validator ships.
 */
export const kubernetesVersions = ['1.30', '1.37'] as const;

export interface DeployTools {
  kustomize: string;
  validatorPython: string;
}

export interface SchemaError {
  object: string;
  kubernetes: string;
  path: string;
  message: string;
}

let cachedTools: DeployTools | undefined;

/**
 * Installs (first call only; cached under .cache/deploy-tools) and returns kustomize and the
 * schema validator. Throws with the installer's message when a toolchain is missing.
 */
export function ensureDeployTools(): DeployTools {
  if (cachedTools) return cachedTools;
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'deploy', 'tools', 'deploy-tools.mjs'), 'install'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`deploy tools are not available:\n${result.stderr}`);
  const value = (key: string): string => {
    const line = result.stdout.split('\n').find((candidate) => candidate.startsWith(`${key}=`));
    if (!line) throw new Error(`deploy-tools.mjs printed no ${key}:\n${result.stdout}`);
    return line.slice(key.length + 1);
  };
  cachedTools = { kustomize: value('KUSTOMIZE'), validatorPython: value('VALIDATOR_PYTHON') };
  return cachedTools;
}

/** `kustomize build <dir>`: the rendered multi-document YAML. */
export function renderKustomization(dir: string): string {
  const { kustomize } = ensureDeployTools();
  const result = spawnSync(kustomize, ['build', dir], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`kustomize build ${path.relative(repoRoot, dir)} failed:\n${result.stderr}`);
  return result.stdout;
}

/** The directory of an overlay. */
export function overlayDir(overlay: Overlay): string {
  return path.join(repoRoot, 'deploy', 'k8s', 'overlays', overlay);
}

/**
 * Parses rendered YAML and validates every object against the Kubernetes JSON schemas of each
 * version in `versions` (strict: unknown fields are errors; kinds without a schema are errors).
 */
export function validateSchemas(
  yaml: string,
  versions: readonly string[] = kubernetesVersions,
): { objects: K8sObject[]; errors: SchemaError[] } {
  const { validatorPython } = ensureDeployTools();
  const script = path.join(repoRoot, 'deploy', 'tools', 'validate-schemas.py');
  const result = spawnSync(validatorPython, [script, ...versions.flatMap((version) => ['--kubernetes', version])], {
    cwd: repoRoot,
    input: yaml,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0 && result.status !== 1)
    throw new Error(`validate-schemas.py failed (exit ${result.status}):\n${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout) as { objects: K8sObject[]; errors: SchemaError[] };
}

const rendered = new Map<Overlay, { objects: K8sObject[]; errors: SchemaError[] }>();

/** An overlay rendered and schema-validated (memoized per process). */
export function renderOverlay(overlay: Overlay): { objects: K8sObject[]; errors: SchemaError[] } {
  let result = rendered.get(overlay);
  if (!result) {
    result = validateSchemas(renderKustomization(overlayDir(overlay)));
    rendered.set(overlay, result);
  }
  return result;
}
