// Configuration as it stands: queues, routing rules (with the playground, rule-playground.tsx), agents,
// mailboxes with sync status and diagnosis (mailboxes-section.tsx), tenant credentials with days to expiry.
// Read views plus the diagnosis and the playground; changes go through the CLI or the workload-manager API
// (docs/cli.md), except what the Replies and Hours & alerts tabs change.
import { CredentialState, QueueStrategy } from '@mailroute/contracts';
import type { ConsoleClients } from '../api/clients';
import { enumLabel, formatDuration, formatTime } from '../ui/format';
import { usePoll } from '../ui/use-poll';
import { presenceLabel } from './agents-tab';
import { MailboxesSection } from './mailboxes-section';
import { RulePlayground } from './rule-playground';
import { Empty, FailureLine, listAll } from './shared';

const duration = (d: { seconds: number } | undefined) => (d ? formatDuration(d.seconds * 1000) : '—');

export function ConfigurationTab(props: { clients: ConsoleClients }) {
  const { router, mailboxes: mailboxClient, credentials: credentialClient } = props.clients;
  const queues = usePoll(
    () =>
      listAll(
        (page) => router.listQueues({ page }),
        (r) => r.queues,
      ),
    30_000,
  );
  const rules = usePoll(
    () =>
      listAll(
        (page) => router.listRoutingRules({ page }),
        (r) => r.rules,
      ),
    30_000,
  );
  const agents = usePoll(
    () =>
      listAll(
        (page) => router.listAgents({ page, queueId: '', skill: '' }),
        (r) => r.agents,
      ),
    30_000,
  );
  const credentials = usePoll(
    () =>
      listAll(
        (page) => credentialClient.listTenantCredentials({ page, state: CredentialState.CREDENTIAL_STATE_UNSPECIFIED }),
        (r) => r.credentials,
      ),
    60_000,
  );
  const queueName = (id: string) => queues.data?.find((q) => q.queueId === id)?.displayName ?? id;
  const ruleNames = Object.fromEntries((rules.data ?? []).map((r) => [r.ruleId, r.displayName || r.ruleId]));
  return (
    <section aria-label="Configuration" class="configuration">
      <p class="muted small">
        Templates, signatures and acknowledgements are changed in <a href="#/supervisor/replies">Replies</a>; calendars and
        queues' hours, targets and alert thresholds in <a href="#/supervisor/hours">Hours &amp; alerts</a>. For the rest of
        queues, routing rules, agents and mailboxes use the CLI (`npm run mailroute -- …`) or the workload-manager API.
      </p>
      <h2>Queues</h2>
      <FailureLine failure={queues.failure} what="queues" />
      <div class="table-wrap">
        <table class="grid">
          <thead>
            <tr>
              <th>Queue</th>
              <th>Strategy</th>
              <th>Offer timeout</th>
              <th>Service level</th>
              <th>Skills</th>
            </tr>
          </thead>
          <tbody>
            {(queues.data ?? []).map((q) => (
              <tr key={q.queueId} data-testid="queue-row">
                <td>
                  {q.displayName}
                  <div class="muted small">{q.queueId}</div>
                </td>
                <td>{enumLabel(QueueStrategy[q.strategy] ?? '', 'QUEUE_STRATEGY_')}</td>
                <td>{duration(q.offerTimeout)}</td>
                <td>{q.serviceLevel ? `${q.serviceLevel.targetPercent}% within ${duration(q.serviceLevel.threshold)}` : '—'}</td>
                <td>{q.requiredSkills.map((s) => `${s.skill} ≥ ${s.minLevel}`).join(', ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Empty list={queues.data} text="No queues." />
      <h2>Routing rules</h2>
      <FailureLine failure={rules.failure} what="routing rules" />
      <div class="table-wrap">
        <table class="grid">
          <thead>
            <tr>
              <th class="num">#</th>
              <th>Rule</th>
              <th>Enabled</th>
              <th>When</th>
              <th>Then</th>
            </tr>
          </thead>
          <tbody>
            {(rules.data ?? []).map((r) => (
              <tr key={r.ruleId}>
                <td class="num">{r.position}</td>
                <td>
                  {r.displayName}
                  <div class="muted small">{r.ruleId}</div>
                </td>
                <td>{r.enabled === false ? 'No' : 'Yes'}</td>
                <td class="small">
                  {[
                    r.condition?.mailboxIds.length ? `mailbox ${r.condition.mailboxIds.join(', ')}` : '',
                    r.condition?.senderDomains.length ? `sender domain ${r.condition.senderDomains.join(', ')}` : '',
                    r.condition?.senderAddresses.length ? `sender ${r.condition.senderAddresses.join(', ')}` : '',
                    r.condition?.subjectPatterns.length
                      ? `subject ${r.condition.subjectPatterns.map((p) => p.pattern).join(' | ')}`
                      : '',
                    r.condition?.hasAttachments !== undefined
                      ? r.condition.hasAttachments
                        ? 'has attachments'
                        : 'no attachments'
                      : '',
                  ]
                    .filter(Boolean)
                    .join('; ') || 'any message'}
                </td>
                <td class="small">
                  {r.action?.action?.$case === 'route'
                    ? `queue ${queueName(r.action.action.value.queueId)}${r.action.action.value.tags.length ? `, tags ${r.action.action.value.tags.join(', ')}` : ''}`
                    : r.action?.action?.$case === 'discard'
                      ? 'discard'
                      : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Empty list={rules.data} text="No routing rules: mail goes to each mailbox's default queue." />
      <RulePlayground clients={props.clients} ruleNames={ruleNames} />
      <h2>Agents</h2>
      <FailureLine failure={agents.failure} what="agents" />
      <div class="table-wrap">
        <table class="grid">
          <thead>
            <tr>
              <th>Agent</th>
              <th>Sign-in</th>
              <th>Queues</th>
              <th>Skills</th>
              <th class="num">Capacity</th>
              <th>Presence</th>
            </tr>
          </thead>
          <tbody>
            {(agents.data ?? []).map((a) => (
              <tr key={a.agentId}>
                <td>
                  {a.displayName}
                  {a.enabled === false ? <span class="badge">disabled</span> : null}
                </td>
                <td class="small">{a.userPrincipalName || a.entraObjectId}</td>
                <td class="small">{a.queueIds.map(queueName).join(', ')}</td>
                <td class="small">{a.skills.map((s) => `${s.skill} ${s.level}`).join(', ') || '—'}</td>
                <td class="num">{a.capacity}</td>
                <td>{a.status ? presenceLabel(a.status.presence) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Empty list={agents.data} text="No agents." />
      <MailboxesSection mailboxClient={mailboxClient} />
      <h2>Tenant credentials</h2>
      <FailureLine failure={credentials.failure} what="tenant credentials" />
      <div class="table-wrap">
        <table class="grid">
          <thead>
            <tr>
              <th>Credentials</th>
              <th>State</th>
              <th>Expires</th>
              <th>Last token</th>
            </tr>
          </thead>
          <tbody>
            {(credentials.data ?? []).map((c) => (
              <tr key={c.credentialsId}>
                <td>
                  {c.displayName || c.credentialsId}
                  <div class="muted small">app {c.clientId}</div>
                </td>
                <td
                  class={
                    c.state === CredentialState.CREDENTIAL_STATE_EXPIRED
                      ? 'error'
                      : c.state === CredentialState.CREDENTIAL_STATE_EXPIRING_SOON
                        ? 'sl-bad'
                        : ''
                  }
                >
                  {enumLabel(CredentialState[c.state] ?? '', 'CREDENTIAL_STATE_')}
                  {c.lastFailure?.message ? <div class="error small">{c.lastFailure.message}</div> : null}
                </td>
                <td>{c.expiresAt ? `${formatTime(c.expiresAt)} (${c.daysUntilExpiry} days)` : 'no expiry'}</td>
                <td class="small">{formatTime(c.lastTokenAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Empty list={credentials.data} text="No tenant credentials." />
    </section>
  );
}
