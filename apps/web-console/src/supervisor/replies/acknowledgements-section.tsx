// Acknowledgements (automatic replies) per mailbox (the router's MailboxSettings) and per queue: on or off,
// the acknowledgement template, the out-of-hours template, the once-per-conversation period and the
// optional reference prefix — QueueAcknowledgement as the API has it. A queue's enabled acknowledgement
// wins over its mailbox's.
import { Queue, TemplateKind, type InteractionRouterServiceClient, type QueueAcknowledgement } from '@mailroute/contracts';
import { useEffect, useState } from 'preact/hooks';
import { toFailure, type Failure } from '../../api/errors';
import { FailureLine } from '../shared';
import { writeMailboxSettings } from './mailbox-settings';
import { mailboxIds, mailboxLabel, TemplateSelect, type ReplyTargets } from './reply-targets';

type Unit = 'minutes' | 'hours' | 'days';
const UNIT_SECONDS: Record<Unit, number> = { minutes: 60, hours: 3600, days: 86_400 };
/** QueueAcknowledgement.period when unset. */
const DEFAULT_PERIOD_SECONDS = 86_400;

type Owner = { kind: 'mailbox' | 'queue'; id: string; name: string; acknowledgement: QueueAcknowledgement | undefined };

interface Draft {
  enabled: boolean;
  templateId: string;
  outOfHoursTemplateId: string;
  amount: string;
  unit: Unit;
  referencePrefix: string;
}

function toDraft(ack: QueueAcknowledgement | undefined): Draft {
  const seconds = ack?.period?.seconds || DEFAULT_PERIOD_SECONDS;
  // 24 hours reads better than 1 day; 2 days better than 48 hours.
  const unit: Unit = seconds % 86_400 === 0 && seconds > 86_400 ? 'days' : seconds % 3600 === 0 ? 'hours' : 'minutes';
  return {
    enabled: ack?.enabled ?? false,
    templateId: ack?.templateId ?? '',
    outOfHoursTemplateId: ack?.outOfHoursTemplateId ?? '',
    amount: String(seconds / UNIT_SECONDS[unit]),
    unit,
    referencePrefix: ack?.referencePrefix ?? '',
  };
}

function fromDraft(draft: Draft): QueueAcknowledgement {
  return {
    enabled: draft.enabled,
    templateId: draft.templateId,
    outOfHoursTemplateId: draft.outOfHoursTemplateId,
    period: { seconds: Math.round(Number(draft.amount) * UNIT_SECONDS[draft.unit]), nanos: 0 },
    referencePrefix: draft.referencePrefix.trim(),
  };
}

async function writeAcknowledgement(router: InteractionRouterServiceClient, owner: Owner, acknowledgement: QueueAcknowledgement) {
  if (owner.kind === 'mailbox') await writeMailboxSettings(router, owner.id, { acknowledgement }, ['acknowledgement']);
  else
    await router.updateQueue({
      queueId: owner.id,
      queue: Queue.fromPartial({ acknowledgement }),
      updateMask: ['acknowledgement'],
      etag: '',
    });
}

function AcknowledgementCard(props: {
  router: InteractionRouterServiceClient;
  targets: ReplyTargets;
  owner: Owner;
  onChanged: () => void;
}) {
  const { owner, targets } = props;
  const [draft, setDraft] = useState(() => toDraft(owner.acknowledgement));
  // Changed here and not saved yet: what the router has (read again every 30 s) does not overwrite it.
  const [dirty, setDirty] = useState(false);
  const [state, setState] = useState<'saving' | 'saved'>();
  const [failure, setFailure] = useState<Failure>();
  const stored = JSON.stringify(owner.acknowledgement ?? null);
  useEffect(() => {
    if (!dirty) setDraft(toDraft(owner.acknowledgement));
  }, [stored]);
  const set = (change: Partial<Draft>) => {
    setDraft({ ...draft, ...change });
    setDirty(true);
    setState(undefined);
  };
  const save = async () => {
    setState('saving');
    setFailure(undefined);
    try {
      await writeAcknowledgement(props.router, owner, fromDraft(draft));
      setDirty(false);
      setState('saved');
      props.onChanged();
    } catch (error) {
      setState(undefined);
      setFailure(toFailure(error));
    }
  };
  const label = `${owner.kind === 'mailbox' ? 'Mailbox' : 'Queue'} ${owner.name}`;
  return (
    <form
      class="card acknowledgement"
      aria-label={`Acknowledgement of ${label}`}
      data-testid="acknowledgement"
      data-kind={owner.kind}
      data-id={owner.id}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h3>
        <span>
          <span class="tag">{owner.kind === 'mailbox' ? 'Mailbox' : 'Queue'}</span>
          {owner.name}
        </span>
        <label class="check">
          <input type="checkbox" checked={draft.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} />
          {draft.enabled ? 'On' : 'Off'}
        </label>
      </h3>
      <div class="form-row">
        <label>
          Acknowledgement
          <TemplateSelect
            targets={targets}
            kind={TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT}
            label={`Acknowledgement template of ${label}`}
            none="choose…"
            value={draft.templateId}
            onChange={(templateId) => set({ templateId })}
          />
        </label>
        <label>
          Out of hours
          <TemplateSelect
            targets={targets}
            kind={TemplateKind.TEMPLATE_KIND_OUT_OF_HOURS}
            label={`Out-of-hours template of ${label}`}
            none="None (no reply while closed)"
            value={draft.outOfHoursTemplateId}
            onChange={(outOfHoursTemplateId) => set({ outOfHoursTemplateId })}
          />
        </label>
      </div>
      <div class="form-row">
        <label>
          At most once per customer every
          <span class="period">
            <input
              type="number"
              min="1"
              step="any"
              aria-label={`Period of ${label}`}
              value={draft.amount}
              onInput={(e) => set({ amount: e.currentTarget.value })}
            />
            <select
              aria-label={`Period unit of ${label}`}
              value={draft.unit}
              onChange={(e) => set({ unit: e.currentTarget.value as Unit })}
            >
              <option value="minutes">minutes</option>
              <option value="hours">hours</option>
              <option value="days">days</option>
            </select>
          </span>
        </label>
        <label>
          Reference prefix <span class="muted small">(optional, e.g. SUP)</span>
          <input
            type="text"
            maxLength={8}
            value={draft.referencePrefix}
            onInput={(e) => set({ referencePrefix: e.currentTarget.value.toUpperCase() })}
          />
        </label>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={state === 'saving'}>
          Save
        </button>
        {state === 'saved' ? (
          <span class="saved" role="status">
            Saved
          </span>
        ) : null}
      </div>
      <FailureLine failure={failure} what="Not saved" />
    </form>
  );
}

export function AcknowledgementsSection(props: {
  router: InteractionRouterServiceClient;
  targets: ReplyTargets;
  onChanged: () => void;
}) {
  const { targets } = props;
  const owners: Owner[] = [
    ...mailboxIds(targets).map((id) => ({
      kind: 'mailbox' as const,
      id,
      name: mailboxLabel(targets, id),
      acknowledgement: targets.settings.find((s) => s.mailboxId === id)?.acknowledgement,
    })),
    ...targets.queues.map((q) => ({
      kind: 'queue' as const,
      id: q.queueId,
      name: q.displayName,
      acknowledgement: q.acknowledgement,
    })),
  ];
  return (
    <section id="replies-acknowledgements" aria-labelledby="replies-acknowledgements-title">
      <h2 id="replies-acknowledgements-title">Acknowledgements</h2>
      <p class="muted small">
        An automatic reply in the customer's thread, marked so other systems do not answer it, and never sent to automated mail. A
        queue's acknowledgement, when on, is used instead of its mailbox's; the queue's business hours decide which template.
      </p>
      <div class="cards">
        {owners.map((owner) => (
          <AcknowledgementCard
            key={`${owner.kind}:${owner.id}`}
            router={props.router}
            targets={targets}
            owner={owner}
            onChanged={props.onChanged}
          />
        ))}
      </div>
    </section>
  );
}
