/**
 * The parts of Kubernetes objects that the policy check and the network-policy evaluator read.
 * Rendered manifests are schema-validated first, so these shapes can be trusted; every field is
 * optional because the policy check must report a missing one, not crash on it.
 */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface Probe {
  grpc?: { port: number; service?: string };
  httpGet?: unknown;
  tcpSocket?: unknown;
  exec?: unknown;
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: string };
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: unknown } };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext & { runAsGroup?: number; fsGroup?: number };
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
  volumes?: ({ name: string } & Record<string, unknown>)[];
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: PodSpec;
}

/** Kinds whose spec holds a pod template (spec.template), and CronJob's one level deeper. */
const workloadKinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'] as const;

/** The pod template of a workload object, or undefined for other kinds. */
export function podTemplateOf(object: K8sObject): PodTemplate | undefined {
  const spec = object.spec as { template?: PodTemplate; jobTemplate?: { spec?: { template?: PodTemplate } } } | undefined;
  if ((workloadKinds as readonly string[]).includes(object.kind)) return spec?.template;
  if (object.kind === 'CronJob') return spec?.jobTemplate?.spec?.template;
  return undefined;
}

/** `Kind/name` (with the namespace when set): how violations and errors name an object. */
export function describeObject(object: K8sObject): string {
  return `${object.kind}/${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`;
}

/** Whether `labels` satisfy a Kubernetes label selector (an empty selector matches everything). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, expression.key);
    const value = labels[expression.key];
    const values = expression.values ?? [];
    if (expression.operator === 'In' && !(has && values.includes(value as string))) return false;
    if (expression.operator === 'NotIn' && has && values.includes(value as string)) return false;
    if (expression.operator === 'Exists' && !has) return false;
    if (expression.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/**
 * A container's environment as the kubelet builds it from the render: envFrom ConfigMaps, then env
 * literals, ConfigMap keys and `metadata.name`/`metadata.namespace` field refs (as `pod` says).
 * Secret references are left out: their values never are in the manifests.
 */
export function environmentOf(
  container: Container,
  objects: readonly K8sObject[],
  namespace: string | undefined,
  pod: { name: string } = { name: 'pod' },
): Record<string, string> {
  const configMap = (name: string | undefined) =>
    objects.find(
      (object) => object.kind === 'ConfigMap' && object.metadata.name === name && object.metadata.namespace === namespace,
    )?.data;
  const environment: Record<string, string> = {};
  for (const source of container.envFrom ?? []) Object.assign(environment, configMap(source.configMapRef?.name) ?? {});
  for (const variable of container.env ?? []) {
    const fromConfigMap = variable.valueFrom?.configMapKeyRef;
    const field = variable.valueFrom?.fieldRef?.fieldPath;
    if (variable.value !== undefined) environment[variable.name] = variable.value;
    else if (fromConfigMap) {
      const value = configMap(fromConfigMap.name)?.[fromConfigMap.key];
      if (value !== undefined) environment[variable.name] = value;
    } else if (field === 'metadata.name') environment[variable.name] = pod.name;
    else if (field === 'metadata.namespace' && namespace) environment[variable.name] = namespace;
  }
  return environment;
}
