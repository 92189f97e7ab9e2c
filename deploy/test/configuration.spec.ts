import { readFileSync } from 'node:fs';
import path from 'node:path';
import { podTemplateOf, type K8sObject } from '../src/k8s-object';
import { renderOverlay, repoRoot } from '../src/tooling';

// Keeps the runbook's configuration table, the services' config schemas and the manifests in step:
// a variable a service starts reading must be documented (and, if needed, set) before this passes.

const services = ['auth-broker', 'mailbox-fetch', 'interaction-router', 'outbound-send'] as const;
/** The web gateway serves HTTP: it reads some of the common variables (not GRPC_*) and its own. */
const withGateway = [...services, 'web-gateway'] as const;
const readme = readFileSync(path.join(repoRoot, 'deploy', 'README.md'), 'utf8');

/**
 * The variable names a schema declares in its object literal — `z.object({ … })` or
 * `serviceConfigSchema.extend({ … })` after `marker` — read from the source (the services are apps,
 * which a tool project may not import; and their schemas are plain object literals).
 */
function schemaKeys(file: string, marker: string): string[] {
  const source = readFileSync(path.join(repoRoot, file), 'utf8');
  const declared = source.indexOf(marker);
  const start = declared === -1 ? -1 : source.indexOf('({', declared);
  if (start === -1) throw new Error(`${file}: no "${marker}" with an object literal`);
  const end = source.indexOf('});', start);
  return [...source.slice(start, end).matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1] as string);
}

const commonKeys = schemaKeys('libs/platform/src/config.ts', 'export const serviceConfigSchema =');
const keysOf = (service: string): string[] => [
  ...new Set([...commonKeys, ...schemaKeys(`apps/${service}/src/config.ts`, 'export const configSchema =')]),
];

/** Variable → where the Deployment's container gets it: envFrom ConfigMaps and env entries. */
function variablesSetBy(objects: K8sObject[], service: string): Map<string, string> {
  const deployment = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === service) as K8sObject;
  const container = podTemplateOf(deployment)?.spec.containers[0];
  const set = new Map<string, string>();
  for (const source of container?.envFrom ?? []) {
    const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === source.configMapRef?.name);
    for (const key of Object.keys(configMap?.data ?? {})) set.set(key, `ConfigMap ${configMap?.metadata.name}`);
  }
  for (const variable of container?.env ?? []) {
    const from = variable.valueFrom;
    set.set(
      variable.name,
      from?.secretKeyRef
        ? `Secret ${from.secretKeyRef.name}/${from.secretKeyRef.key}`
        : from?.configMapKeyRef
          ? `ConfigMap ${from.configMapKeyRef.name}`
          : 'env',
    );
  }
  return set;
}

describe('the configuration reference in deploy/README.md', () => {
  const { objects } = renderOverlay('production');

  it('found the schemas it reads', () => {
    expect(commonKeys).toEqual(expect.arrayContaining(['GRPC_HOST', 'GRPC_PORT', 'LOG_LEVEL', 'SHUTDOWN_GRACE_MS']));
    for (const service of services) expect(keysOf(service)).toContain('GRPC_PORT');
  });

  it.each(withGateway)('documents every variable %s reads, in a table row of its own', (service) => {
    const undocumented = keysOf(service).filter((key) => !new RegExp(`^\\| \`${key}\` \\|`, 'm').test(readme));
    expect(undocumented).toEqual([]);
  });

  it.each(withGateway)('sets only variables that %s reads (no typos, nothing stale)', (service) => {
    const known = new Set(keysOf(service));
    expect([...variablesSetBy(objects, service).keys()].filter((key) => !known.has(key))).toEqual([]);
  });

  it.each(services)('gives %s a gRPC host reachable in a pod and its own port', (service) => {
    const set = variablesSetBy(objects, service);
    expect(set.get('GRPC_HOST')).toMatch(/^ConfigMap mailroute-common/);
    expect(set.get('GRPC_PORT')).toMatch(new RegExp(`^ConfigMap ${service}-config`));
  });

  it('names, for each Secret reference in the manifests, the Secret, the key and a command that creates it', () => {
    const references = objects.flatMap((object) =>
      (podTemplateOf(object)?.spec.containers ?? []).flatMap((container) =>
        (container.env ?? []).flatMap((variable) => (variable.valueFrom?.secretKeyRef ? [variable.valueFrom.secretKeyRef] : [])),
      ),
    );
    expect(references.length).toBeGreaterThan(0);
    for (const { name, key } of references) {
      expect(readme).toMatch(new RegExp(`\\| \`${name}\` \\| \`${key}\` \\|`));
      expect(readme).toMatch(
        new RegExp(`create secret generic ${name} [^\\n]*\\\\?\\n?(?:[^\\n]*\\n)*?[^\\n]*--from-literal=${key}=`),
      );
    }
  });

  it('documents the rendered ConfigMap values it quotes for the common variables', () => {
    const common = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('mailroute-common'));
    for (const key of ['GRPC_HOST', 'SHUTDOWN_GRACE_MS', 'GRPC_DEFAULT_DEADLINE_MS']) {
      expect(readme).toContain(`| \`${key}\` | all | ConfigMap \`mailroute-common\` | \`${common?.data?.[key]}\``);
    }
  });
});
