// The routing-rule playground: describe a message, see which rule routes it and why the others do not
// (TestRoutingRules; nothing is stored).
import { InboundMessage, type TestRoutingRulesResponse } from '@mailroute/contracts';
import { useState } from 'preact/hooks';
import type { ConsoleClients } from '../api/clients';
import { toFailure } from '../api/errors';

export function RulePlayground(props: { clients: ConsoleClients; ruleNames: Record<string, string> }) {
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
