import path from 'node:path';
import { podTemplateOf, type K8sObject } from '../src/k8s-object';
import { isConnectionAllowed, type Endpoint } from '../src/network-policy';
import { checkPolicies, formatViolations } from '../src/policy/policy-check';
import { renderKustomization, repoRoot, validateSchemas } from '../src/tooling';

interface IngressPath {
  path: string;
  pathType: string;
  backend: { service: { name: string; port: { name?: string; number?: number } } };
}

/** The production overlay with the mailbox-fetch-push component (deploy/test/fixtures/production-with-push). */
describe('the mailbox-fetch-push component', () => {
  const yaml = renderKustomization(path.join(repoRoot, 'deploy', 'test', 'fixtures', 'production-with-push'));
  const { objects, errors } = validateSchemas(yaml);
  const find = (kind: string, name: string) =>
    objects.find((object) => object.kind === kind && object.metadata.name === name) as K8sObject;

  it('validates against the Kubernetes schemas and the production policies', () => {
    expect(errors).toEqual([]);
    const violations = checkPolicies(objects);
    expect(formatViolations(violations)).toBe('');
  });

  it('exposes only the notification and lifecycle paths, to mailbox-fetch’s push port', () => {
    const ingresses = objects.filter((object) => object.kind === 'Ingress');
    expect(ingresses.map((ingress) => ingress.metadata.name)).toEqual(['mailbox-fetch-notifications']);
    const spec = ingresses[0]?.['spec'] as { rules: Array<{ http: { paths: IngressPath[] } }> };
    const paths = spec.rules.flatMap((rule) => rule.http.paths);
    expect(
      paths.map((entry) => [entry.path, entry.pathType, entry.backend.service.name, entry.backend.service.port.name]),
    ).toEqual([
      ['/graph/notifications', 'Exact', 'mailbox-fetch', 'push'],
      ['/graph/lifecycle', 'Exact', 'mailbox-fetch', 'push'],
    ]);
    const ports = (find('Service', 'mailbox-fetch')['spec'] as { ports: Array<{ name: string; port: number }> }).ports;
    expect(ports.map((port) => `${port.name}:${port.port}`).sort()).toEqual(['grpc:50052', 'push:8443']);
    const container = podTemplateOf(find('Deployment', 'mailbox-fetch'))?.spec.containers[0];
    expect(container?.env?.find((entry) => entry.name === 'MAILBOX_FETCH_PUSH_PUBLIC_URL')?.value).toBe(
      'https://mail-hooks.example.com/graph',
    );
  });

  it('lets only the ingress controller reach the endpoint, and it nothing else of mailbox-fetch', () => {
    const namespace = find('Namespace', 'mailroute');
    const mailboxFetch: Endpoint = {
      namespace: 'mailroute',
      namespaceLabels: namespace.metadata.labels ?? {},
      podLabels: podTemplateOf(find('Deployment', 'mailbox-fetch'))?.metadata?.labels ?? {},
    };
    const ingress: Endpoint = {
      namespace: 'web-ingress',
      namespaceLabels: { 'mailroute.io/web-ingress': 'true' },
      podLabels: { app: 'nginx' },
    };
    const stranger: Endpoint = { namespace: 'other-team', namespaceLabels: {}, podLabels: { app: 'x' } };
    expect(isConnectionAllowed(objects, ingress, mailboxFetch, 8443)).toBe(true);
    expect(isConnectionAllowed(objects, ingress, mailboxFetch, 50052)).toBe(false);
    expect(isConnectionAllowed(objects, ingress, mailboxFetch, 9465)).toBe(false);
    expect(isConnectionAllowed(objects, stranger, mailboxFetch, 8443)).toBe(false);
  });
});
