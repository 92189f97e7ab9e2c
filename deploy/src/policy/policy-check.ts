import {
  describeObject,
  environmentOf,
  podTemplateOf,
  selectorMatches,
  type Container,
  type K8sObject,
  type LabelSelector,
  type PodSpec,
  type SecurityContext,
} from '../k8s-object';
import { checkEncryptedTransport } from './encrypted-transport';

/** The rules of the policy check; each has a fixture under deploy/test/fixtures/policy that breaks it. */
export const policyRules = {
  'non-root': 'every container runs as a non-root user: runAsNonRoot true and a runAsUser other than 0',
  'no-privilege-escalation': 'allowPrivilegeEscalation false and privileged not set, on every container',
  'read-only-root-filesystem': 'readOnlyRootFilesystem true on every container',
  'drop-all-capabilities': 'capabilities.drop contains ALL and nothing is added back',
  'seccomp-runtime-default': 'a RuntimeDefault (or Localhost) seccomp profile on the pod or the container',
  'service-account-token': 'automountServiceAccountToken false: mailroute never calls the Kubernetes API',
  'resource-limits': 'cpu and memory requests and limits on every container',
  probes:
    'long-running containers have readiness and liveness probes, gRPC ones on the port named health (GRPC_HEALTH_PORT, plaintext health only) or else grpc',
  'pinned-image': 'every image has a version tag or a digest, never latest or none',
  'no-secret-values': 'no Secret object carries data, no secret-looking variable has a literal value',
  'pod-disruption-budget': 'every Deployment is covered by a PodDisruptionBudget',
  'termination-grace': 'terminationGracePeriodSeconds covers the preStop pause, SHUTDOWN_GRACE_MS and 10 s of closing',
  'default-deny-network-policy': 'each namespace with workloads has a NetworkPolicy denying all ingress and egress by default',
  'encrypted-transport':
    'production only: gRPC servers serve mTLS and clients present certificates (files from a mounted Secret, no GRPC_ALLOW_PLAINTEXT), Kafka clients use TLS with SASL or a client certificate',
} as const;

export interface PolicyOptions {
  /**
   * `production` (the default: the strictest) adds the encrypted-transport rule; `development` (the
   * dev overlay, plaintext by design) leaves it out.
   */
  environment?: 'production' | 'development';
}

export type PolicyRule = keyof typeof policyRules;

export interface PolicyViolation {
  rule: PolicyRule;
  /** `Kind/namespace/name` of the offending object (plus the container, when it is one). */
  object: string;
  message: string;
}

/** Variables whose values are credentials or hold them (a MongoDB URL carries its password). */
const secretLookingName = /(PASSWORD|SECRET|_TOKENS?|API_KEYS?|ENCRYPTION_KEYS|MONGODB_URL|CREDENTIALS?|PRIVATE_KEY)$/;

const longRunningKinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
/** Time the services need after the gRPC drain: consumers commit and leave, producers flush, database closes. */
const closingMarginSeconds = 10;
/** libs/platform serviceConfigSchema's default. */
const defaultShutdownGraceMs = 10_000;

/**
 * Checks rendered manifests (one overlay's objects, already schema-valid) against mailroute's
 * deployment rules. Returns every violation; an empty list means the manifests pass.
 */
export function checkPolicies(objects: readonly K8sObject[], options: PolicyOptions = {}): PolicyViolation[] {
  const production = (options.environment ?? 'production') === 'production';
  const violations: PolicyViolation[] = [];
  const report = (rule: PolicyRule, object: string, message: string): void => {
    violations.push({ rule, object, message });
  };
  for (const object of objects) {
    const template = podTemplateOf(object);
    if (template) checkPod(object, template.spec, objects, report, production);
    if (object.kind === 'Secret') {
      const keys = [...Object.keys(object.data ?? {}), ...Object.keys(object.stringData ?? {})];
      if (keys.length > 0)
        report(
          'no-secret-values',
          describeObject(object),
          `Secret carries values (${keys.join(', ')}); create Secrets out of band and reference them by name`,
        );
    }
    if (object.kind === 'ConfigMap') {
      for (const [key, value] of Object.entries(object.data ?? {})) {
        if (secretLookingName.test(key) && value.trim() !== '')
          report(
            'no-secret-values',
            describeObject(object),
            `${key} looks like a secret: take it from a Secret, not a ConfigMap`,
          );
      }
    }
    if (object.kind === 'Deployment') checkDisruptionBudget(object, objects, report);
  }
  checkDefaultDeny(objects, report);
  return violations;
}

type Report = (rule: PolicyRule, object: string, message: string) => void;

function checkPod(owner: K8sObject, pod: PodSpec, objects: readonly K8sObject[], report: Report, production: boolean): void {
  const name = describeObject(owner);
  if (pod.automountServiceAccountToken !== false)
    report('service-account-token', name, 'automountServiceAccountToken is not false');
  const longRunning = longRunningKinds.has(owner.kind);
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    const where = `${name} container ${container.name}`;
    checkSecurity(where, pod.securityContext ?? {}, container.securityContext ?? {}, report);
    checkResources(where, container, report);
    checkImage(where, container, report);
    checkSecretLiterals(where, container, report);
  }
  for (const container of pod.containers) {
    const where = `${name} container ${container.name}`;
    if (longRunning) checkProbes(where, container, report);
    if (longRunning && production)
      checkEncryptedTransport(where, pod, container, objects, owner.metadata.namespace, (object, message) =>
        report('encrypted-transport', object, message),
      );
  }
  if (longRunning) checkGrace(name, pod, objects, owner.metadata.namespace, report);
}

function checkSecurity(where: string, pod: SecurityContext, container: SecurityContext, report: Report): void {
  const runAsNonRoot = container.runAsNonRoot ?? pod.runAsNonRoot;
  const runAsUser = container.runAsUser ?? pod.runAsUser;
  if (runAsNonRoot !== true) report('non-root', where, 'runAsNonRoot is not true');
  if (runAsUser === undefined) report('non-root', where, 'runAsUser is not set (the image user would decide)');
  else if (runAsUser === 0) report('non-root', where, 'runAsUser is 0 (root)');
  if (container.allowPrivilegeEscalation !== false)
    report('no-privilege-escalation', where, 'allowPrivilegeEscalation is not false');
  if (container.privileged === true) report('no-privilege-escalation', where, 'privileged is true');
  if (container.readOnlyRootFilesystem !== true) report('read-only-root-filesystem', where, 'readOnlyRootFilesystem is not true');
  if (!container.capabilities?.drop?.includes('ALL'))
    report('drop-all-capabilities', where, 'capabilities.drop does not contain ALL');
  if ((container.capabilities?.add ?? []).length > 0)
    report('drop-all-capabilities', where, `capabilities.add: ${container.capabilities?.add?.join(', ')}`);
  const seccomp = (container.seccompProfile ?? pod.seccompProfile)?.type;
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
    report('seccomp-runtime-default', where, `seccompProfile is ${seccomp ?? 'not set'}`);
}

function checkResources(where: string, container: Container, report: Report): void {
  for (const kind of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory']) {
      if (!container.resources?.[kind]?.[resource]) report('resource-limits', where, `resources.${kind}.${resource} is not set`);
    }
  }
}

/** `registry:5000/name:tag@sha256:…` → its tag and digest. */
export function parseImage(image: string): { name: string; tag?: string; digest?: string } {
  const [withoutDigest, digest] = image.split('@') as [string, string | undefined];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  const hasTag = lastColon > lastSlash;
  return {
    name: hasTag ? withoutDigest.slice(0, lastColon) : withoutDigest,
    ...(hasTag ? { tag: withoutDigest.slice(lastColon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

function checkImage(where: string, container: Container, report: Report): void {
  if (!container.image) return report('pinned-image', where, 'no image');
  const { tag, digest } = parseImage(container.image);
  if (digest) {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) report('pinned-image', where, `${container.image}: malformed digest`);
    return;
  }
  if (!tag) report('pinned-image', where, `${container.image} has no tag (means latest): pin a version or a digest`);
  else if (tag === 'latest') report('pinned-image', where, `${container.image} uses the latest tag: pin a version or a digest`);
}

function checkSecretLiterals(where: string, container: Container, report: Report): void {
  for (const variable of container.env ?? []) {
    if (secretLookingName.test(variable.name) && variable.value !== undefined && variable.value !== '') {
      report('no-secret-values', where, `${variable.name} has a literal value: take it from a Secret (valueFrom.secretKeyRef)`);
    }
  }
}

function checkProbes(where: string, container: Container, report: Report): void {
  const portNamed = (name: string) => container.ports?.find((port) => port.name === name)?.containerPort;
  const healthPort = portNamed('health');
  const grpcPort = portNamed('grpc');
  const probePort = healthPort ?? grpcPort;
  for (const kind of ['readinessProbe', 'livenessProbe'] as const) {
    const probe = container[kind];
    if (!probe) {
      report('probes', where, `${kind} is not set`);
    } else if (probePort !== undefined && probe.grpc?.port !== probePort) {
      const which = healthPort === undefined ? `the grpc port ${grpcPort}` : `the health port ${healthPort}`;
      report('probes', where, `${kind} must be a grpc probe (grpc.health.v1) on ${which}`);
    }
  }
}

function checkGrace(
  where: string,
  pod: PodSpec,
  objects: readonly K8sObject[],
  namespace: string | undefined,
  report: Report,
): void {
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  for (const container of pod.containers) {
    const environment = environmentOf(container, objects, namespace);
    const drainMs = Number(environment['SHUTDOWN_GRACE_MS'] || defaultShutdownGraceMs);
    const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
    const needed = preStop + Math.ceil(drainMs / 1000) + closingMarginSeconds;
    if (grace < needed) {
      report(
        'termination-grace',
        `${where} container ${container.name}`,
        `terminationGracePeriodSeconds ${grace} < preStop ${preStop} s + drain ${drainMs / 1000} s + ${closingMarginSeconds} s closing = ${needed}`,
      );
    }
  }
}

function checkDisruptionBudget(deployment: K8sObject, objects: readonly K8sObject[], report: Report): void {
  const labels = podTemplateOf(deployment)?.metadata?.labels ?? {};
  const covered = objects.some(
    (object) =>
      object.kind === 'PodDisruptionBudget' &&
      object.metadata.namespace === deployment.metadata.namespace &&
      Object.keys((object.spec as { selector?: LabelSelector }).selector?.matchLabels ?? {}).length +
        ((object.spec as { selector?: LabelSelector }).selector?.matchExpressions?.length ?? 0) >
        0 &&
      selectorMatches((object.spec as { selector?: LabelSelector }).selector, labels),
  );
  if (!covered) report('pod-disruption-budget', describeObject(deployment), 'no PodDisruptionBudget selects its pods');
}

function checkDefaultDeny(objects: readonly K8sObject[], report: Report): void {
  const namespaces = new Set(
    objects.filter((object) => podTemplateOf(object)).map((object) => object.metadata.namespace ?? '(no namespace)'),
  );
  for (const namespace of namespaces) {
    const denies = objects.some((object) => {
      if (object.kind !== 'NetworkPolicy' || (object.metadata.namespace ?? '(no namespace)') !== namespace) return false;
      const spec = object.spec as {
        podSelector?: LabelSelector;
        policyTypes?: string[];
        ingress?: unknown[];
        egress?: unknown[];
      };
      const selectsAll =
        Object.keys(spec.podSelector?.matchLabels ?? {}).length === 0 && (spec.podSelector?.matchExpressions ?? []).length === 0;
      return (
        selectsAll &&
        spec.policyTypes?.includes('Ingress') &&
        spec.policyTypes.includes('Egress') &&
        !spec.ingress?.length &&
        !spec.egress?.length
      );
    });
    if (!denies)
      report(
        'default-deny-network-policy',
        `Namespace/${namespace}`,
        'no NetworkPolicy selects every pod with Ingress and Egress and allows nothing',
      );
  }
}

/** One line per violation, for logs and CLI output. */
export function formatViolations(violations: readonly PolicyViolation[]): string {
  return violations.map((violation) => `  [${violation.rule}] ${violation.object}: ${violation.message}`).join('\n');
}
