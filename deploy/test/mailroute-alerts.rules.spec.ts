import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse } from 'yaml';
import { repoRoot } from '../src/tooling';

// promtool is not available offline, so the rules are checked from both ends: every expression
// parses with Prometheus' own PromQL grammar (@prometheus-io/lezer-promql), and every metric and
// grouping label it names is one the services export — a renamed metric would leave an alert that
// can never fire, which Prometheus does not report.

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  keep_firing_for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rulesFile = path.join(repoRoot, 'deploy', 'monitoring', 'mailroute-alerts.rules.yaml');
const readme = readFileSync(path.join(repoRoot, 'deploy', 'README.md'), 'utf8');

/** Source files (not specs) of the apps and libs, by path: where metrics are created. */
function sources(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'generated') walk(full);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) files.set(full, readFileSync(full, 'utf8'));
    }
  };
  for (const top of ['apps', 'libs']) {
    for (const project of readdirSync(path.join(repoRoot, top))) {
      const src = path.join(repoRoot, top, project, 'src');
      try {
        walk(src);
      } catch {
        // a project without src/
      }
    }
  }
  return files;
}

/** The file that creates a metric (`'<name>'`; counters without the `_total` Prometheus adds), or undefined. */
function definingFile(files: Map<string, string>, metric: string): string | undefined {
  const names = [metric, metric.replace(/_total$/, '')];
  for (const [file, text] of files) if (names.some((name) => text.includes(`'${name}'`))) return file;
  return undefined;
}

/** Syntax errors Prometheus' grammar finds in an expression (positions). */
function syntaxErrors(expr: string): number[] {
  const errors: number[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
    },
  });
  return errors;
}

const metricsIn = (expr: string) => [...new Set([...expr.matchAll(/\b(mailroute_\w+)/g)].map((match) => match[1] as string))];
const groupingLabels = (expr: string) =>
  [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((match) => (match[1] as string).split(/,\s*/).filter(Boolean));

/** GitHub's heading anchor. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

describe('deploy/monitoring/mailroute-alerts.rules.yaml', () => {
  const document = parse(readFileSync(rulesFile, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
  const rules = document.groups.flatMap((group) => group.rules);
  const files = sources();

  it('is a Prometheus rules file whose alerts each have a unique name, an expression, a duration, a severity and a runbook', () => {
    expect(rules.length).toBeGreaterThanOrEqual(8);
    expect(new Set(document.groups.map((group) => group.name)).size).toBe(document.groups.length);
    expect(new Set(rules.map((rule) => rule.alert)).size).toBe(rules.length);
    for (const rule of rules) {
      expect({
        alert: rule.alert,
        hasExpr: Boolean(rule.expr),
        for: rule.for,
        severity: rule.labels?.severity,
        summary: typeof rule.annotations?.summary,
        runbook: rule.annotations?.runbook,
      }).toEqual({
        alert: expect.stringMatching(/^Mailroute[A-Z]\w+$/),
        hasExpr: true,
        for: expect.stringMatching(/^\d+[smh]$/),
        severity: expect.stringMatching(/^(warning|critical)$/),
        summary: 'string',
        runbook: expect.stringMatching(/^deploy\/README\.md#[a-z0-9-]+$/),
      });
    }
  });

  it('has expressions that parse as PromQL (and the check finds a broken one)', () => {
    for (const rule of rules)
      expect({ alert: rule.alert, errors: syntaxErrors(rule.expr ?? '') }).toEqual({ alert: rule.alert, errors: [] });
    expect(syntaxErrors('sum by (tenant) (rate(mailroute_router_queue_waiting[5m])')).not.toEqual([]);
  });

  it('alerts only on metrics and grouping labels the services export (and the check finds an unknown metric)', () => {
    for (const rule of rules) {
      const metrics = metricsIn(rule.expr ?? '');
      expect(metrics.length).toBeGreaterThan(0);
      for (const metric of metrics) {
        const file = definingFile(files, metric);
        expect({ alert: rule.alert, metric, defined: file !== undefined }).toEqual({ alert: rule.alert, metric, defined: true });
        const source = files.get(file ?? '') ?? '';
        for (const label of groupingLabels(rule.expr ?? ''))
          expect({ alert: rule.alert, label, inSource: new RegExp(`\\b${label}\\b`).test(source) }).toEqual({
            alert: rule.alert,
            label,
            inSource: true,
          });
      }
    }
    expect(definingFile(files, 'mailroute_router_queue_sla_missed_forever')).toBeUndefined();
  });

  it('covers what issue 17 asks for: SLA due soon and breached, queue thresholds with hysteresis, mailboxes not syncing, credential expiry', () => {
    const metrics = new Set(rules.flatMap((rule) => metricsIn(rule.expr ?? '')));
    for (const metric of [
      'mailroute_router_queue_sla_breached',
      'mailroute_router_queue_sla_due_soon',
      'mailroute_router_queue_waiting',
      'mailroute_router_queue_oldest_wait_seconds',
      'mailroute_mailbox_fetch_mailbox_lag_seconds',
      'mailroute_auth_credential_days_until_expiry',
      // The conditions of the alert events (mailroute.alert.v1): the queue's own thresholds, mailboxes nobody syncs.
      'mailroute_router_queue_waiting_alert_threshold',
      'mailroute_router_queue_longest_wait_alert_threshold_seconds',
      'mailroute_mailbox_fetch_mailbox_sync_stopped',
    ])
      expect(metrics).toContain(metric);
    for (const alert of [
      'MailrouteQueueWaitingHigh',
      'MailrouteQueueOldestWait',
      'MailrouteQueueWaitingOverThreshold',
      'MailrouteQueueLongestWaitOverThreshold',
    ])
      expect(rules.find((rule) => rule.alert === alert)?.keep_firing_for).toMatch(/^\d+[smh]$/);
    // Not the consumer-lag rule: that one has its own file.
    expect(rules.map((rule) => rule.alert)).not.toContain('MailrouteConsumerLag');
  });

  it('has a runbook section for every alert, linked from the deploy README', () => {
    const anchors = new Set([...readme.matchAll(/^#+ (.+)$/gm)].map((match) => anchorOf(match[1] as string)));
    for (const rule of rules) {
      const anchor = (rule.annotations?.runbook ?? '').split('#')[1] ?? '';
      expect({ alert: rule.alert, anchor, exists: anchors.has(anchor) }).toEqual({ alert: rule.alert, anchor, exists: true });
      expect(readme).toContain(`\`${rule.alert}\``);
    }
    expect(readme).toContain('monitoring/mailroute-alerts.rules.yaml');
  });
});
