import { readdirSync } from 'node:fs';
import path from 'node:path';
import { checkPolicies, parseImage, policyRules, type PolicyRule } from '../src/policy/policy-check';
import { renderKustomization, validateSchemas } from '../src/tooling';

const fixturesDir = path.join(__dirname, 'fixtures', 'policy');
/** Each folder except ok/ breaks the rule its name starts with (before any "--"). */
const violationFixtures = readdirSync(fixturesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'ok')
  .map((entry) => ({ fixture: entry.name, rule: entry.name.split('--')[0] as PolicyRule }));

function render(fixture: string): ReturnType<typeof validateSchemas> {
  return validateSchemas(renderKustomization(path.join(fixturesDir, fixture)));
}

describe('the policy check', () => {
  it('passes the compliant fixture workload, which is also schema-valid', () => {
    const { objects, errors } = render('ok');
    expect(errors).toEqual([]);
    expect(checkPolicies(objects)).toEqual([]);
  });

  it('has a fixture that breaks each of its rules', () => {
    expect(new Set(violationFixtures.map(({ rule }) => rule))).toEqual(new Set(Object.keys(policyRules)));
  });

  it.each(violationFixtures)('fails $fixture with $rule violations only (the fixture is schema-valid)', ({ fixture, rule }) => {
    const { objects, errors } = render(fixture);
    expect(errors).toEqual([]);
    const violations = checkPolicies(objects);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.map((violation) => violation.rule)).toEqual(violations.map(() => rule));
  });

  it('leaves plaintext transport to development manifests: encrypted-transport is a production rule', () => {
    for (const fixture of violationFixtures.filter(({ rule }) => rule === 'encrypted-transport')) {
      const { objects } = render(fixture.fixture);
      expect(checkPolicies(objects, { environment: 'development' })).toEqual([]);
      expect(checkPolicies(objects, { environment: 'production' }).length).toBeGreaterThan(0);
    }
  });

  it('names what is plaintext in each encrypted-transport fixture', () => {
    const messages = (fixture: string) => checkPolicies(render(fixture).objects).map((violation) => violation.message);
    expect(messages('encrypted-transport')).toEqual([
      'GRPC_ALLOW_PLAINTEXT=true: gRPC in plaintext off loopback',
      'GRPC_TLS_CERT_FILE is not set: gRPC serves in plaintext',
      'GRPC_TLS_KEY_FILE is not set: gRPC serves in plaintext',
    ]);
    expect(messages('encrypted-transport--kafka')).toEqual([
      'KAFKA_TLS is not true: Kafka in plaintext',
      'neither KAFKA_SASL_MECHANISM nor KAFKA_TLS_CERT_FILE is set: the brokers cannot authenticate the client',
    ]);
    expect(messages('encrypted-transport--client')).toEqual([
      'GRPC_TLS_CERT_FILE (/etc/app/tls/tls.crt) is not on a mounted Secret volume',
      'GRPC_TLS_KEY_FILE (/etc/app/tls/tls.key) is not on a mounted Secret volume',
      'GRPC_TLS_CA_FILE (/etc/app/tls/ca.crt) is not on a mounted Secret volume',
      'GRPC_TLS_REQUIRE_CLIENT_CERT is not true: the gRPC server accepts clients without a certificate',
    ]);
  });

  it('reads tags and digests the way container runtimes do', () => {
    expect(parseImage('registry:5000/team/app')).toEqual({ name: 'registry:5000/team/app' });
    expect(parseImage('registry:5000/team/app:1.2.3')).toEqual({ name: 'registry:5000/team/app', tag: '1.2.3' });
    expect(parseImage(`app:1.2.3@sha256:${'a'.repeat(64)}`)).toEqual({
      name: 'app',
      tag: '1.2.3',
      digest: `sha256:${'a'.repeat(64)}`,
    });
  });
});
