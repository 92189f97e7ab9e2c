import { selectorMatches, type K8sObject, type LabelSelector } from './k8s-object';

/**
 * One end of a connection: a pod (namespace + labels) or an address outside the cluster (ip only).
 * `namespaceLabels` are the labels of the pod's namespace (kubernetes.io/metadata.name is added).
 */
export interface Endpoint {
  namespace?: string;
  namespaceLabels?: Record<string, string>;
  podLabels?: Record<string, string>;
  ip?: string;
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { protocol?: string; port?: number | string; endPort?: number }[];
}

interface PolicySpec {
  podSelector: LabelSelector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: Rule[];
  egress?: Rule[];
}

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** Whether an IPv4 address lies in a CIDR block. */
function cidrContains(cidr: string, ip: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string | undefined];
  const size = 2 ** (32 - Number(bits ?? 32));
  const start = Math.floor(ipv4ToNumber(base) / size) * size;
  const value = ipv4ToNumber(ip);
  return value >= start && value < start + size;
}

function namespaceLabelsOf(endpoint: Endpoint): Record<string, string> {
  return {
    ...(endpoint.namespaceLabels ?? {}),
    ...(endpoint.namespace ? { 'kubernetes.io/metadata.name': endpoint.namespace } : {}),
  };
}

function peerMatches(peer: Peer, policyNamespace: string, endpoint: Endpoint): boolean {
  if (peer.ipBlock) {
    if (!endpoint.ip || !cidrContains(peer.ipBlock.cidr, endpoint.ip)) return false;
    return !(peer.ipBlock.except ?? []).some((except) => cidrContains(except, endpoint.ip as string));
  }
  if (!endpoint.podLabels) return false;
  if (peer.namespaceSelector) {
    if (!selectorMatches(peer.namespaceSelector, namespaceLabelsOf(endpoint))) return false;
  } else if (endpoint.namespace !== policyNamespace) {
    return false;
  }
  return selectorMatches(peer.podSelector, endpoint.podLabels);
}

function portMatches(rule: Rule, port: number, protocol: string): boolean {
  if (!rule.ports || rule.ports.length === 0) return true;
  return rule.ports.some((candidate) => {
    if ((candidate.protocol ?? 'TCP') !== protocol) return false;
    if (candidate.port === undefined) return true;
    if (typeof candidate.port === 'string')
      throw new Error(`named port ${candidate.port} in a NetworkPolicy: the evaluator supports port numbers only`);
    return candidate.endPort === undefined ? candidate.port === port : port >= candidate.port && port <= candidate.endPort;
  });
}

function policiesFor(
  objects: readonly K8sObject[],
  endpoint: Endpoint,
  direction: 'Ingress' | 'Egress',
): { namespace: string; spec: PolicySpec }[] {
  if (!endpoint.podLabels) return [];
  return objects
    .filter((object) => object.kind === 'NetworkPolicy' && object.metadata.namespace === endpoint.namespace)
    .map((object) => ({ namespace: object.metadata.namespace as string, spec: object.spec as PolicySpec }))
    .filter(({ spec }) => {
      const types = spec.policyTypes ?? (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
      return types.includes(direction) && selectorMatches(spec.podSelector, endpoint.podLabels);
    });
}

/**
 * Whether the NetworkPolicies in `objects` let `from` open a connection to `to` on `port`, by the
 * Kubernetes semantics: a pod selected by no policy of a direction is open in that direction; a
 * selected pod allows what the union of the selecting policies' rules allows; both the egress side
 * (policies of `from`'s namespace) and the ingress side (of `to`'s) must allow. Endpoints outside
 * the rendered namespaces are not constrained by these manifests on their own side.
 */
export function isConnectionAllowed(
  objects: readonly K8sObject[],
  from: Endpoint,
  to: Endpoint,
  port: number,
  protocol = 'TCP',
): boolean {
  const egress = policiesFor(objects, from, 'Egress');
  const egressOk =
    egress.length === 0 ||
    egress.some(({ namespace, spec }) =>
      (spec.egress ?? []).some(
        (rule) =>
          (!rule.to || rule.to.length === 0 || rule.to.some((peer) => peerMatches(peer, namespace, to))) &&
          portMatches(rule, port, protocol),
      ),
    );
  if (!egressOk) return false;
  const ingress = policiesFor(objects, to, 'Ingress');
  return (
    ingress.length === 0 ||
    ingress.some(({ namespace, spec }) =>
      (spec.ingress ?? []).some(
        (rule) =>
          (!rule.from || rule.from.length === 0 || rule.from.some((peer) => peerMatches(peer, namespace, from))) &&
          portMatches(rule, port, protocol),
      ),
    )
  );
}
