import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../src/tooling';

// The consumer-lag alert reads the gauge the services export (libs/messaging kafka-consumer-lag.ts,
// proved against a real broker by kafka-consumer-lag.int.spec.ts): a renamed metric or label would
// leave an alert that can never fire, which Prometheus does not report.

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rulesFile = path.join(repoRoot, 'deploy', 'monitoring', 'kafka-consumer-lag.rules.yaml');
const lagSource = readFileSync(path.join(repoRoot, 'libs', 'messaging', 'src', 'kafka', 'kafka-consumer-lag.ts'), 'utf8');

describe('deploy/monitoring/kafka-consumer-lag.rules.yaml', () => {
  const document = parse(readFileSync(rulesFile, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
  const rules = document.groups.flatMap((group) => group.rules);

  it('is a Prometheus rules file whose alerts each have an expression, a duration, a severity and a runbook', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect({ alert: rule.alert, hasExpr: Boolean(rule.expr), for: rule.for, severity: rule.labels?.severity }).toEqual({
        alert: expect.stringMatching(/^Mailroute[A-Z]\w+$/),
        hasExpr: true,
        for: expect.stringMatching(/^\d+[smh]$/),
        severity: expect.stringMatching(/^(warning|critical)$/),
      });
      expect(rule.annotations?.runbook).toMatch(/^deploy\/README\.md#consumer-lag/);
    }
  });

  it('alerts on the metric and labels the services export', () => {
    const exported = /createObservableGauge\('(\w+)'/.exec(lagSource)?.[1];
    expect(exported).toBe('mailroute_kafka_consumer_lag');
    const lag = rules.find((rule) => rule.alert === 'MailrouteConsumerLag');
    const metrics = [...(lag?.expr ?? '').matchAll(/\b(mailroute_\w+)/g)].map((match) => match[1]);
    expect(new Set(metrics)).toEqual(new Set([exported]));
    const labels = [...(lag?.expr ?? '').matchAll(/by \(([^)]*)\)/g)].flatMap((match) => (match[1] as string).split(/,\s*/));
    for (const label of labels) expect(lagSource).toContain(`${label}:`);
  });

  it('is linked from the runbook', () => {
    const readme = readFileSync(path.join(repoRoot, 'deploy', 'README.md'), 'utf8');
    expect(readme).toContain('monitoring/kafka-consumer-lag.rules.yaml');
    expect(readme).toMatch(/^#+ Consumer lag$/m);
  });
});
