// The tenant's signature rule (Get/SetSignatureRule): parts appended in order, each the first of its
// sources (agent, queue, mailbox) that has a signature. Shown as a sentence and edited part by part.
import { SignatureSource, type InteractionRouterServiceClient } from '@mailroute/contracts';
import { useEffect, useState } from 'preact/hooks';
import { toFailure, type Failure } from '../../api/errors';
import { formatTime } from '../../ui/format';
import { usePoll } from '../../ui/use-poll';
import { FailureLine } from '../shared';

type Part = SignatureSource[];

const SOURCES = [
  SignatureSource.SIGNATURE_SOURCE_AGENT,
  SignatureSource.SIGNATURE_SOURCE_QUEUE,
  SignatureSource.SIGNATURE_SOURCE_MAILBOX,
];
const DEFAULT_RULE: Part[] = [SOURCES];
const MAX_PARTS = 3;
const OPTION_LABELS: Record<number, string> = {
  [SignatureSource.SIGNATURE_SOURCE_AGENT]: "Agent's signature",
  [SignatureSource.SIGNATURE_SOURCE_QUEUE]: "Queue's signature",
  [SignatureSource.SIGNATURE_SOURCE_MAILBOX]: "Mailbox's signature",
};

const sourceLabel = (source: SignatureSource): string =>
  source === SignatureSource.SIGNATURE_SOURCE_AGENT
    ? "the agent's"
    : source === SignatureSource.SIGNATURE_SOURCE_QUEUE
      ? "the queue's"
      : source === SignatureSource.SIGNATURE_SOURCE_MAILBOX
        ? "the mailbox's"
        : '?';

/** "Replies end with the agent's, else the queue's signature; then the mailbox's signature." */
function describeRule(parts: Part[]): string {
  const used = parts.filter((part) => part.length > 0);
  if (!used.length) return 'Replies get no signature.';
  return `Replies end with ${used.map((part) => `${part.map(sourceLabel).join(', else ')} signature`).join('; then ')}.`;
}

export function SignatureRuleEditor(props: { router: InteractionRouterServiceClient }) {
  const stored = usePoll(() => props.router.getSignatureRule({}), 60_000);
  const [parts, setParts] = useState<Part[]>();
  const [failure, setFailure] = useState<Failure>();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const rule = stored.data?.rule;
  useEffect(() => {
    if (rule && parts === undefined) setParts(rule.parts.map((p) => [...p.sources]));
  }, [rule]);
  const shown = parts ?? [];
  const change = (next: Part[]) => {
    setParts(next);
    setSaved(false);
  };
  const setSource = (partIndex: number, slot: number, source: SignatureSource | undefined) => {
    const part = [...(shown[partIndex] ?? [])];
    if (source === undefined) part.splice(slot);
    else part[slot] = source;
    change(shown.map((p, i) => (i === partIndex ? part : p)));
  };
  const save = async () => {
    setBusy(true);
    setFailure(undefined);
    try {
      const response = await props.router.setSignatureRule({
        rule: { parts: shown.filter((p) => p.length).map((sources) => ({ sources })), etag: '' },
        etag: rule?.etag ?? '',
      });
      setParts(response.rule?.parts.map((p) => [...p.sources]) ?? []);
      setSaved(true);
      stored.refresh();
    } catch (error) {
      setFailure(toFailure(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="card signature-rule" data-testid="signature-rule">
      <h3>Signature rule</h3>
      <FailureLine failure={stored.failure} what="signature rule" />
      <p data-testid="signature-rule-summary">
        <strong>{describeRule(shown)}</strong>
      </p>
      <p class="muted small">
        Each part adds the first signature its sources have; parts are appended in order.{' '}
        {rule?.updatedAt ? `Changed ${formatTime(rule.updatedAt)}.` : 'The default rule applies.'}
      </p>
      <ol class="rule-parts">
        {shown.map((part, partIndex) => (
          <li key={partIndex} data-testid="signature-part">
            {[0, 1, 2].slice(0, Math.min(3, part.length + 1)).map((slot) => (
              <span key={slot} class="rule-slot">
                {slot > 0 ? <span class="muted"> else </span> : null}
                <select
                  aria-label={`Part ${partIndex + 1}, choice ${slot + 1}`}
                  value={part[slot] ?? ''}
                  onChange={(e) => {
                    const value = e.currentTarget.value;
                    setSource(partIndex, slot, value ? (Number(value) as SignatureSource) : undefined);
                  }}
                >
                  <option value="">{slot === 0 ? 'choose…' : '(nothing else)'}</option>
                  {SOURCES.map((source) => (
                    <option key={source} value={source}>
                      {OPTION_LABELS[source]}
                    </option>
                  ))}
                </select>
              </span>
            ))}{' '}
            <button type="button" class="link" onClick={() => change(shown.filter((_, i) => i !== partIndex))}>
              Remove part {partIndex + 1}
            </button>
          </li>
        ))}
      </ol>
      <div class="actions">
        <button type="button" onClick={() => change([...shown, []])} disabled={shown.length >= MAX_PARTS}>
          Add a part
        </button>
        <button type="button" onClick={() => change(DEFAULT_RULE.map((p) => [...p]))}>
          Use the default
        </button>
        <button type="button" class="primary" onClick={() => void save()} disabled={busy || !parts}>
          Save rule
        </button>
        {saved && !failure ? (
          <span class="saved" role="status">
            Saved
          </span>
        ) : null}
      </div>
      <FailureLine failure={failure} what="Not saved" />
    </div>
  );
}
