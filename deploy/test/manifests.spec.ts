import { readFileSync } from 'node:fs';
import path from 'node:path';
import { podTemplateOf, type K8sObject, type PodTemplate } from '../src/k8s-object';
import { isConnectionAllowed, type Endpoint } from '../src/network-policy';
import { checkPolicies, formatViolations, parseImage } from '../src/policy/policy-check';
import { overlays, renderKustomization, renderOverlay, repoRoot, validateSchemas, type Overlay } from '../src/tooling';

const services = ['auth-broker', 'mailbox-fetch', 'interaction-router', 'outbound-send'] as const;
const grpcPorts: Record<(typeof services)[number], number> = {
  'auth-broker': 50051,
  'mailbox-fetch': 50052,
  'interaction-router': 50053,
  'outbound-send': 50054,
};
/** The web gateway: HTTP (the console, gRPC-web), probed over HTTP, in front of the services. */
const gateway = 'web-gateway';
const gatewayPorts = { http: 8080, metrics: 9468 };
const rootPackage = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };

/**
 * The topics `events` declares in libs/messaging/src/events.ts and the dead-letter name
 * `deadLetterTopic` gives each, read from the source: importing @mailroute/messaging would load the
 * whole platform lib (ESM-only packages included) into this tooling spec.
 */
function messagingTopics(): string[] {
  const eventsSource = readFileSync(path.join(repoRoot, 'libs', 'messaging', 'src', 'events.ts'), 'utf8');
  const block = eventsSource.slice(eventsSource.indexOf('export const events = {'), eventsSource.indexOf('} as const;'));
  const topics = [...block.matchAll(/topic: '([^']+)'/g)].map((match) => match[1] as string);
  const portSource = readFileSync(path.join(repoRoot, 'libs', 'messaging', 'src', 'ports', 'event-bus.port.ts'), 'utf8');
  const suffix = (
    portSource.match(
      /export function deadLetterTopic\(topic: string\): string \{\s*return `\$\{topic\}([^`]*)`;/,
    ) as RegExpMatchArray
  )[1];
  expect(topics.length).toBeGreaterThan(0);
  return topics.flatMap((topic) => [topic, `${topic}${suffix}`]);
}

const find = (objects: K8sObject[], kind: string, name: string): K8sObject | undefined =>
  objects.find((object) => object.kind === kind && object.metadata.name === name);
const templateOf = (objects: K8sObject[], name: string): PodTemplate =>
  podTemplateOf(find(objects, 'Deployment', name) as K8sObject) as PodTemplate;

describe.each(overlays)('the %s overlay', (overlay: Overlay) => {
  const { objects, errors } = renderOverlay(overlay);

  it('renders objects that are valid against the Kubernetes 1.30 and 1.37 schemas (strict)', () => {
    expect(objects.length).toBeGreaterThan(20);
    expect(errors).toEqual([]);
  });

  it('passes the policy check', () => {
    const violations = checkPolicies(objects, { environment: overlay === 'production' ? 'production' : 'development' });
    if (violations.length > 0) throw new Error(`policy violations:\n${formatViolations(violations)}`);
  });

  it('deploys the four services and the web gateway, and never the graph sandbox', () => {
    expect(
      objects
        .filter((object) => object.kind === 'Deployment')
        .map((object) => object.metadata.name)
        .sort(),
    ).toEqual([...services, gateway].sort());
    expect(objects.filter((object) => JSON.stringify(object).includes('graph-sandbox'))).toEqual([]);
  });

  it('puts everything in the mailroute namespace', () => {
    for (const object of objects)
      if (object.kind !== 'Namespace') expect([object.kind, object.metadata.namespace]).toEqual([object.kind, 'mailroute']);
  });

  it.each(services)(
    'serves %s on the port its GRPC_PORT sets behind a Service of the same port, and probes it with grpc.health.v1 on the plaintext GRPC_HEALTH_PORT',
    (service) => {
      const container = templateOf(objects, service).spec.containers[0];
      const config = objects.find(
        (object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith(`${service}-config`),
      );
      const common = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('mailroute-common'));
      const port = grpcPorts[service];
      expect(config?.data?.['GRPC_PORT']).toBe(String(port));
      expect(container?.ports?.find((candidate) => candidate.name === 'grpc')?.containerPort).toBe(port);
      const healthPort = Number(common?.data?.['GRPC_HEALTH_PORT']);
      expect(container?.ports?.find((candidate) => candidate.name === 'health')?.containerPort).toBe(healthPort);
      for (const probe of [container?.startupProbe, container?.readinessProbe, container?.livenessProbe])
        expect(probe?.grpc).toEqual({ port: healthPort });
      const serviceObject = find(objects, 'Service', service);
      expect((serviceObject?.spec as { ports: { port: number; targetPort: string }[] }).ports).toEqual([
        expect.objectContaining({ port, targetPort: 'grpc' }),
      ]);
    },
  );

  it('probes the web gateway over HTTP (/healthz alive, /readyz ready) on the port WEB_GATEWAY_PORT sets, behind a Service of the same port', () => {
    const container = templateOf(objects, gateway).spec.containers[0];
    const config = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith(`${gateway}-config`));
    expect(config?.data?.['WEB_GATEWAY_PORT']).toBe(String(gatewayPorts.http));
    expect(config?.data?.['WEB_GATEWAY_METRICS_PORT']).toBe(String(gatewayPorts.metrics));
    expect(container?.ports?.find((candidate) => candidate.name === 'http')?.containerPort).toBe(gatewayPorts.http);
    expect(container?.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const serviceObject = find(objects, 'Service', gateway);
    expect((serviceObject?.spec as { ports: { port: number; targetPort: string }[] }).ports).toEqual([
      expect.objectContaining({ port: gatewayPorts.http, targetPort: 'http' }),
    ]);
  });

  it.each(services)('mounts the optional CA bundle ConfigMap into %s, for NODE_EXTRA_CA_CERTS', (service) => {
    const { spec } = templateOf(objects, service);
    const volume = spec.volumes?.find((entry) => entry.name === 'ca-bundle');
    expect(volume?.['configMap']).toEqual({ name: 'mailroute-ca-bundle', optional: true });
    expect(spec.containers[0]?.volumeMounts).toContainEqual({
      name: 'ca-bundle',
      mountPath: '/etc/mailroute/ca-bundle',
      readOnly: true,
    });
  });

  it('references Secrets by name only and ships none', () => {
    expect(objects.filter((object) => object.kind === 'Secret')).toEqual([]);
  });

  it('pins every image to a version tag (the package.json version for mailroute, the tested Kafka for the topic job)', () => {
    const kafkaVersion = (
      readFileSync(path.join(repoRoot, 'tools', 'kafka', 'pom.xml'), 'utf8').match(/<kafka\.version>([^<]+)</) as RegExpMatchArray
    )[1];
    for (const object of objects) {
      for (const container of podTemplateOf(object)?.spec.containers ?? []) {
        const { name, tag } = parseImage(container.image ?? '');
        expect([name, tag]).toEqual([name, name.endsWith('/kafka') ? kafkaVersion : rootPackage.version]);
      }
    }
  });

  it('creates exactly the Kafka topics of libs/messaging (and their dead-letter topics)', () => {
    const topicsConfig = objects.find(
      (object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('mailroute-kafka-topics'),
    );
    const topics = (topicsConfig?.data?.['topics.txt'] ?? '').split('\n').filter((line) => line.trim() !== '');
    const expected = messagingTopics();
    expect(topics.sort()).toEqual(expected.sort());
  });
});

describe('the production overlay', () => {
  const { objects } = renderOverlay('production');

  it.each([...services, gateway])('autoscales %s from 2 replicas and lets one pod at a time be disrupted', (service) => {
    const hpa = find(objects, 'HorizontalPodAutoscaler', service)?.spec as {
      minReplicas: number;
      maxReplicas: number;
      scaleTargetRef: { kind: string; name: string };
    };
    expect(hpa.scaleTargetRef).toEqual(expect.objectContaining({ kind: 'Deployment', name: service }));
    expect(hpa.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.maxReplicas).toBeGreaterThan(hpa.minReplicas);
    expect((find(objects, 'Deployment', service)?.spec as { replicas?: number }).replicas).toBeUndefined();
    expect(find(objects, 'PodDisruptionBudget', service)?.spec).toEqual(expect.objectContaining({ maxUnavailable: 1 }));
  });

  it('pulls the images from a registry, not the local names the dev overlay uses', () => {
    const images = objects.flatMap((object) => podTemplateOf(object)?.spec.containers.map((container) => container.image) ?? []);
    expect(images.filter((image) => image?.startsWith('mailroute/'))).toEqual([]);
  });
});

describe('the dev overlay', () => {
  const { objects } = renderOverlay('dev');

  it('runs one replica per service, without autoscaling, with debug logs and single-broker topics', () => {
    expect(objects.filter((object) => object.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    for (const service of [...services, gateway])
      expect((find(objects, 'Deployment', service)?.spec as { replicas?: number }).replicas).toBe(1);
    const common = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('mailroute-common'));
    expect(common?.data?.['LOG_LEVEL']).toBe('debug');
    const kafka = objects.find(
      (object) =>
        object.kind === 'ConfigMap' &&
        object.metadata.name.startsWith('mailroute-kafka-') &&
        !object.metadata.name.includes('topics'),
    );
    expect(kafka?.data?.['KAFKA_TOPIC_REPLICATION_FACTOR']).toBe('1');
  });
});

describe("the production overlay's transport security", () => {
  const { objects } = renderOverlay('production');
  const common = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('mailroute-common'));

  it('serves mTLS with the certificate cert-manager issues to each service, never plaintext', () => {
    expect(common?.data).toMatchObject({
      GRPC_ALLOW_PLAINTEXT: 'false',
      GRPC_TLS_CERT_FILE: '/etc/mailroute/tls/tls.crt',
      GRPC_TLS_KEY_FILE: '/etc/mailroute/tls/tls.key',
      GRPC_TLS_CA_FILE: '/etc/mailroute/tls/ca.crt',
      GRPC_TLS_REQUIRE_CLIENT_CERT: 'true',
    });
    for (const service of [...services, gateway]) {
      const certificate = find(objects, 'Certificate', service)?.spec as {
        secretName: string;
        dnsNames: string[];
        usages: string[];
        issuerRef: { name: string };
      };
      expect(certificate.issuerRef.name).toBe('mailroute-internal-ca');
      expect(certificate.usages).toContain('client auth');
      if (service !== gateway) {
        expect(certificate.usages).toContain('server auth');
        expect(certificate.dnsNames).toEqual(expect.arrayContaining([service, `${service}.mailroute.svc`]));
      }
      const pod = templateOf(objects, service).spec;
      const mount = pod.containers[0]?.volumeMounts?.find((candidate) => candidate.mountPath === '/etc/mailroute/tls');
      expect(pod.volumes?.find((volume) => volume.name === mount?.name)).toEqual({
        name: 'tls',
        secret: { secretName: certificate.secretName, defaultMode: 0o400 },
      });
    }
    const caIssuer = find(objects, 'Issuer', 'mailroute-internal-ca')?.spec as { ca: { secretName: string } };
    expect(find(objects, 'Certificate', 'mailroute-internal-ca')?.spec as { isCA: boolean; secretName: string }).toMatchObject({
      isCA: true,
      secretName: caIssuer.ca.secretName,
    });
  });

  it('connects the four Kafka services over SASL_SSL with the password file from the Secret mailroute-kafka-sasl', () => {
    for (const service of ['auth-broker', 'mailbox-fetch', 'interaction-router', 'outbound-send']) {
      const pod = templateOf(objects, service).spec;
      const env = Object.fromEntries((pod.containers[0]?.env ?? []).map((variable) => [variable.name, variable.value]));
      expect(env).toMatchObject({
        KAFKA_TLS: 'true',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_PASSWORD_FILE: '/etc/mailroute/kafka-sasl/password',
      });
      expect(pod.volumes).toContainEqual({
        name: 'kafka-sasl',
        secret: { secretName: 'mailroute-kafka-sasl', defaultMode: 0o400 },
      });
    }
  });

  it('fails the policy check when a merge turns gRPC back to plaintext (as the dev settings would)', () => {
    const plaintext = objects.map((object) =>
      object === common ? { ...object, data: { ...object.data, GRPC_ALLOW_PLAINTEXT: 'true', GRPC_TLS_CERT_FILE: '' } } : object,
    );
    const violations = checkPolicies(plaintext, { environment: 'production' }).filter(
      (violation) => violation.rule === 'encrypted-transport',
    );
    expect(new Set(violations.map((violation) => violation.object.split(' ')[0]))).toEqual(
      new Set([...services, gateway].map((service) => `Deployment/mailroute/${service}`)),
    );
  });
});

describe('the schema validation', () => {
  const yaml = renderKustomization(path.join(repoRoot, 'deploy', 'k8s', 'overlays', 'production'));

  it('rejects an unknown field, naming the object and the path', () => {
    const { errors } = validateSchemas(yaml.replace('maxSurge: 1', 'maxSurge: 1\n      maxSurgeTypo: 2'));
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          object: 'Deployment/auth-broker',
          path: 'spec.strategy.rollingUpdate',
          message: expect.stringContaining('maxSurgeTypo'),
        }),
      ]),
    );
  });

  it('rejects a value of the wrong type', () => {
    const { errors } = validateSchemas(yaml.replace('terminationGracePeriodSeconds: 40', 'terminationGracePeriodSeconds: forty'));
    expect(errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'spec.template.spec.terminationGracePeriodSeconds' })]),
    );
  });

  it("validates cert-manager's Certificate and Issuer against the schemas kept in deploy/tools/schemas (strict)", () => {
    const { errors } = validateSchemas(
      yaml
        .replace('secretName: auth-broker-tls\n  usages:', 'secretNmae: auth-broker-tls\n  usages:')
        .replace('rotationPolicy: Always', 'rotationPolicy: Sometimes'),
    );
    expect(
      errors.filter((error) => error.kubernetes === '1.30').map((error) => [error.object, error.path, error.message]),
    ).toEqual(
      expect.arrayContaining([
        ['Certificate/auth-broker', 'spec', expect.stringContaining("'secretName' is a required property")],
        ['Certificate/auth-broker', 'spec', expect.stringContaining("'secretNmae' was unexpected")],
        [expect.stringMatching(/^Certificate\//), 'spec.privateKey.rotationPolicy', expect.stringContaining('Sometimes')],
      ]),
    );
  });

  it('rejects a kind it has no schema for', () => {
    const { errors } = validateSchemas('apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n');
    expect(errors.map((error) => [error.object, error.kubernetes, error.message])).toEqual([
      ['Widget/w', '1.30', 'no schema for example.com/v1 Widget'],
      ['Widget/w', '1.37', 'no schema for example.com/v1 Widget'],
    ]);
  });
});

describe('the network policies', () => {
  const { objects } = renderOverlay('production');
  const namespace = find(objects, 'Namespace', 'mailroute');
  const pod = (labels: Record<string, string> | undefined): Endpoint => ({
    namespace: 'mailroute',
    namespaceLabels: namespace?.metadata.labels ?? {},
    podLabels: labels ?? {},
  });
  const inside: Record<string, Endpoint> = {
    ...Object.fromEntries([...services, gateway].map((service) => [service, pod(templateOf(objects, service).metadata?.labels)])),
    'kafka-topics-job': pod(podTemplateOf(find(objects, 'Job', 'mailroute-kafka-topics') as K8sObject)?.metadata?.labels),
  };
  const elsewhere = (name: string, labels: Record<string, string>): Endpoint => ({
    namespace: name,
    namespaceLabels: labels,
    podLabels: { app: name },
  });
  const clients: Record<string, Endpoint> = {
    'workload-manager': elsewhere('contact-center-admin', { 'mailroute.io/workload-manager-clients': 'true' }),
    'agent-gateway': elsewhere('ingress', { 'mailroute.io/agent-gateway': 'true' }),
    'web-ingress': elsewhere('web-ingress', { 'mailroute.io/web-ingress': 'true' }),
    monitoring: elsewhere('observability', { 'mailroute.io/monitoring': 'true' }),
    stranger: elsewhere('other-team', {}),
  };
  const destinations: { name: string; endpoint: Endpoint; port: number; protocol?: string }[] = [
    ...services.map((service) => ({ name: `${service}:grpc`, endpoint: inside[service] as Endpoint, port: grpcPorts[service] })),
    // The plaintext health-only port is for the kubelet's probes: no pod or namespace reaches it.
    ...services.map((service) => ({ name: `${service}:health`, endpoint: inside[service] as Endpoint, port: 8086 })),
    { name: 'auth-broker:metrics', endpoint: inside['auth-broker'] as Endpoint, port: 9464 },
    { name: 'mailbox-fetch:metrics', endpoint: inside['mailbox-fetch'] as Endpoint, port: 9465 },
    { name: 'interaction-router:metrics', endpoint: inside['interaction-router'] as Endpoint, port: 9466 },
    { name: 'outbound-send:metrics', endpoint: inside['outbound-send'] as Endpoint, port: 9467 },
    { name: 'web-gateway:http', endpoint: inside[gateway] as Endpoint, port: gatewayPorts.http },
    { name: 'web-gateway:metrics', endpoint: inside[gateway] as Endpoint, port: gatewayPorts.metrics },
    { name: 'kafka', endpoint: elsewhere('kafka', { 'mailroute.io/kafka': 'true' }), port: 9092 },
    { name: 'mongodb', endpoint: elsewhere('mongodb', { 'mailroute.io/mongodb': 'true' }), port: 27017 },
    { name: 'entra-and-graph', endpoint: { ip: '20.190.151.68' }, port: 443 },
    { name: 'private-network:443', endpoint: { ip: '10.20.30.40' }, port: 443 },
    { name: 'dns', endpoint: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } }, port: 53, protocol: 'UDP' },
    { name: 'otel-collector', endpoint: elsewhere('observability', { 'mailroute.io/monitoring': 'true' }), port: 4318 },
    { name: 'stranger:8080', endpoint: elsewhere('other-team', {}), port: 8080 },
  ];

  it('allow exactly the flows of ARCHITECTURE.md, and nothing else', () => {
    const allowed: string[] = [];
    for (const [sourceName, source] of Object.entries({ ...inside, ...clients })) {
      for (const destination of destinations) {
        if (destination.endpoint === source) continue;
        if (isConnectionAllowed(objects, source, destination.endpoint, destination.port, destination.protocol))
          allowed.push(`${sourceName} -> ${destination.name}`);
      }
    }
    const eachService = (to: string, which: readonly string[] = services): string[] =>
      which.map((service) => `${service} -> ${to}`);
    const expected = [
      // mailbox-fetch and outbound-send get Graph tokens from auth-broker.
      'mailbox-fetch -> auth-broker:grpc',
      'outbound-send -> auth-broker:grpc',
      // Workload-manager clients use every service's admin API; agent desktops reach the router.
      ...services.map((service) => `workload-manager -> ${service}:grpc`),
      'agent-gateway -> interaction-router:grpc',
      // Browsers reach the web gateway through the ingress; it calls the three services the console uses.
      'web-ingress -> web-gateway:http',
      'web-gateway -> interaction-router:grpc',
      'web-gateway -> mailbox-fetch:grpc',
      'web-gateway -> auth-broker:grpc',
      'monitoring -> web-gateway:metrics',
      'monitoring -> auth-broker:metrics',
      'monitoring -> mailbox-fetch:metrics',
      'monitoring -> interaction-router:metrics',
      'monitoring -> outbound-send:metrics',
      // Kafka (auth-broker only publishes its credential-expiry alerts), MongoDB, Entra ID / Graph, DNS, traces.
      ...eachService('kafka', [...services, 'kafka-topics-job']),
      ...eachService('mongodb'),
      ...eachService('entra-and-graph'),
      ...eachService('dns', [...services, gateway, 'kafka-topics-job']),
      ...eachService('otel-collector', [...services, gateway]),
      // Clients outside the namespace are not limited by these manifests on their own side.
      ...Object.keys(clients).flatMap((client) =>
        ['kafka', 'mongodb', 'entra-and-graph', 'private-network:443', 'dns', 'otel-collector', 'stranger:8080'].map(
          (to) => `${client} -> ${to}`,
        ),
      ),
    ].filter((flow) => !/^(\S+) -> \1$/.test(flow));
    // A client's own namespace is one of the destinations (observability hosts the collector).
    expect(allowed.sort()).toEqual(expected.sort());
  });
});
