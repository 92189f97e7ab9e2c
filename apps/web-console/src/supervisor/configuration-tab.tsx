// Configuration as it stands: queues, routing rules (with the TestRoutingRules playground showing which
// rule matched and why the others did not), agents, mailboxes with sync status and diagnosis, tenant
// credentials with days to expiry. Read views plus the diagnosis and the playground; changes go through
// the CLI or the workload-manager API (docs/cli.md).
import {
  CheckOutcome,
  CredentialState,
  DiagnosisResult,
  InboundMessage,
  MailboxSyncState,
  QueueStrategy,
  type DiagnoseMailboxAccessResponse,
  type TestRoutingRulesResponse,
} from '@mailroute/contracts';
import { useState } from 'preact/hooks';
import type { ConsoleClients } from '../api/clients';
import { toFailure } from '../api/errors';
import { enumLabel, formatDuration, formatTime } from '../ui/format';
import { usePoll } from '../ui/use-poll';
import { presenceLabel } from './agents-tab';
import { FailureLine, listAll } from './shared';

const duration = (d: { seconds: number } | undefined) => (d ? formatDuration(d.seconds * 1000) : '—');

function Playground(props: { clients: ConsoleClients; ruleNames: Record<string, string> }) {
  const [mailboxId, setMailboxId] = useState('');
  const [from, setFrom] = useState('customer@example.com');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [attachments, setAttachments] = useState(false);
  const [result, setResult] = useState<TestRoutingRulesResponse>();
  const [error, setError] = useState<string>();
  const test = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const message = InboundMessage.fromPartial({
        from: { address: from, name: '' },
        subject,
        bodyText: body,
        attachments: attachments
          ? [{ attachmentId: 'a1', name: 'file.pdf', contentType: 'application/pdf', sizeBytes: 1000 }]
          : [],
      });
      setResult(await props.clients.router.testRoutingRules({ mailboxId, message }));
    } catch (failure) {
      setError(toFailure(failure).message);
    }
  };
  const outcome = result?.outcome?.action;
  return (
    <form class="card playground" onSubmit={test} aria-label="Routing rule playground">
      <h3>Try the rules</h3>
      <p class="muted small">Describe a message; see which rule routes it and why the others do not. Nothing is stored.</p>
      <div class="filters">
        <label>
          Mailbox id
          <input type="text" value={mailboxId} onInput={(e) => setMailboxId(e.currentTarget.value)} required />
        </label>
        <label>
          From
          <input type="text" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          Subject
          <input type="text" value={subject} onInput={(e) => setSubject(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={attachments} onChange={(e) => setAttachments(e.currentTarget.checked)} /> has
          attachments
        </label>
      </div>
      <label>
        Body
        <textarea rows={3} value={body} onInput={(e) => setBody(e.currentTarget.value)} />
      </label>
      <button type="submit" class="primary">
        Test
      </button>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {result ? (
        <div data-testid="playground-result">
          <p>
            <strong>
              {result.matchedRuleId
                ? `Rule “${props.ruleNames[result.matchedRuleId] ?? result.matchedRuleId}” matched`
                : 'No rule matched'}
            </strong>
            {outcome?.$case === 'route'
              ? ` → queue ${outcome.value.queueId}`
              : outcome?.$case === 'discard'
                ? ' → discarded'
                : ''}
          </p>
          <table class="grid">
            <thead>
              <tr>
                <th>Rule</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {result.evaluations.map((evaluation) => (
                <tr key={evaluation.ruleId}>
                  <td>{props.ruleNames[evaluation.ruleId] ?? evaluation.ruleId}</td>
                  <td>
                    {evaluation.disabled ? 'disabled' : evaluation.matched ? 'matched' : `no: ${evaluation.failedCondition}`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </form>
  );
}

function Empty(props: { list: unknown[] | undefined; text: string }) {
  return props.list?.length === 0 ? <p class="empty">{props.text}</p> : null;
}

function Diagnosis(props: { result: DiagnoseMailboxAccessResponse }) {
  const diagnosis = props.result.diagnosis;
  return (
    <div>
      <strong>{enumLabel(DiagnosisResult[diagnosis?.result ?? 0] ?? '', 'DIAGNOSIS_RESULT_')}</strong>
      <ul>
        {(diagnosis?.findings ?? []).map((finding, index) => (
          <li key={index} class={finding.outcome === CheckOutcome.CHECK_OUTCOME_FAILED ? 'error' : ''}>
            {enumLabel(CheckOutcome[finding.outcome] ?? '', 'CHECK_OUTCOME_')}: {finding.message}
            {finding.remedy ? <div class="muted small">Fix: {finding.remedy}</div> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}

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
  const mailboxes = usePoll(
    () =>
      listAll(
        (page) =>
          mailboxClient.listMailboxes({ page, addressContains: '', syncState: MailboxSyncState.MAILBOX_SYNC_STATE_UNSPECIFIED }),
        (r) => r.mailboxes,
      ),
    15_000,
  );
  const credentials = usePoll(
    () =>
      listAll(
        (page) => credentialClient.listTenantCredentials({ page, state: CredentialState.CREDENTIAL_STATE_UNSPECIFIED }),
        (r) => r.credentials,
      ),
    60_000,
  );
  const [diagnoses, setDiagnoses] = useState<Record<string, DiagnoseMailboxAccessResponse | string>>({});
  const queueName = (id: string) => queues.data?.find((q) => q.queueId === id)?.displayName ?? id;
  const ruleNames = Object.fromEntries((rules.data ?? []).map((r) => [r.ruleId, r.displayName || r.ruleId]));
  const diagnose = async (mailboxId: string) => {
    setDiagnoses((d) => ({ ...d, [mailboxId]: 'Checking…' }));
    try {
      const result = await mailboxClient.diagnoseMailboxAccess({
        target: { $case: 'mailboxId', value: mailboxId },
        skipSendCheck: false,
      });
      setDiagnoses((d) => ({ ...d, [mailboxId]: result }));
    } catch (failure) {
      setDiagnoses((d) => ({ ...d, [mailboxId]: toFailure(failure).message }));
    }
  };
  return (
    <section aria-label="Configuration" class="configuration">
      <p class="muted small">To change configuration use the CLI (`npm run mailroute -- …`) or the workload-manager API.</p>
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
      <Playground clients={props.clients} ruleNames={ruleNames} />
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
      <h2>Mailboxes</h2>
      <FailureLine failure={mailboxes.failure} what="mailboxes" />
      <div class="table-wrap">
        <table class="grid">
          <thead>
            <tr>
              <th>Mailbox</th>
              <th>Sync</th>
              <th>Last synced</th>
              <th class="num">Backlog</th>
              <th>Diagnosis</th>
            </tr>
          </thead>
          <tbody>
            {(mailboxes.data ?? []).map((m) => {
              const status = m.syncStatus;
              const diagnosis = diagnoses[m.mailboxId];
              return (
                <tr key={m.mailboxId} data-testid="mailbox-row">
                  <td>
                    {m.address}
                    <div class="muted small">{m.mailboxId}</div>
                  </td>
                  <td>
                    {enumLabel(MailboxSyncState[status?.state ?? 0] ?? '', 'MAILBOX_SYNC_STATE_')}
                    {status?.lastError?.message ? <div class="error small">{status.lastError.message}</div> : null}
                  </td>
                  <td class="small">{formatTime(status?.lastSuccessfulSyncAt)}</td>
                  <td class="num">{status?.backlogMessages ?? 0}</td>
                  <td class="small">
                    {diagnosis === undefined ? (
                      <button onClick={() => void diagnose(m.mailboxId)}>Diagnose</button>
                    ) : typeof diagnosis === 'string' ? (
                      diagnosis
                    ) : (
                      <Diagnosis result={diagnosis} />
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <Empty list={mailboxes.data} text="No mailboxes." />
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
