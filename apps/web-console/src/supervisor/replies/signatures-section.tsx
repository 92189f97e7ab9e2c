// Signatures: which SIGNATURE template each mailbox (the router's MailboxSettings), queue and agent has,
// saved as soon as it is chosen, and the tenant's signature rule that decides which of them a reply gets.
import { Agent, Queue, TemplateKind, type InteractionRouterServiceClient } from '@mailroute/contracts';
import { useState } from 'preact/hooks';
import { toFailure, type Failure } from '../../api/errors';
import { FailureLine } from '../shared';
import { writeMailboxSettings } from './mailbox-settings';
import { mailboxIds, mailboxLabel, TemplateSelect, templatesOfKind, type ReplyTargets } from './reply-targets';
import { SignatureRuleEditor } from './signature-rule';

type Owner = { kind: 'mailbox' | 'queue' | 'agent'; id: string; name: string; signatureTemplateId: string };

const KIND_LABEL: Record<Owner['kind'], string> = { mailbox: 'Mailbox', queue: 'Queue', agent: 'Agent' };

function owners(targets: ReplyTargets): Owner[] {
  return [
    ...mailboxIds(targets).map((id) => ({
      kind: 'mailbox' as const,
      id,
      name: mailboxLabel(targets, id),
      signatureTemplateId: targets.settings.find((s) => s.mailboxId === id)?.signatureTemplateId ?? '',
    })),
    ...targets.queues.map((q) => ({
      kind: 'queue' as const,
      id: q.queueId,
      name: q.displayName,
      signatureTemplateId: q.signatureTemplateId,
    })),
    ...targets.agents.map((a) => ({
      kind: 'agent' as const,
      id: a.agentId,
      name: a.displayName,
      signatureTemplateId: a.signatureTemplateId,
    })),
  ];
}

async function writeSignature(router: InteractionRouterServiceClient, owner: Owner, signatureTemplateId: string): Promise<void> {
  const common = { updateMask: ['signature_template_id'], etag: '' };
  if (owner.kind === 'mailbox') await writeMailboxSettings(router, owner.id, { signatureTemplateId }, ['signature_template_id']);
  else if (owner.kind === 'queue')
    await router.updateQueue({ queueId: owner.id, queue: Queue.fromPartial({ signatureTemplateId }), ...common });
  else await router.updateAgent({ agentId: owner.id, agent: Agent.fromPartial({ signatureTemplateId }), ...common });
}

function SignatureRow(props: {
  router: InteractionRouterServiceClient;
  targets: ReplyTargets;
  owner: Owner;
  onChanged: () => void;
}) {
  const { owner } = props;
  const [value, setValue] = useState<string>();
  const [state, setState] = useState<'saving' | 'saved'>();
  const [failure, setFailure] = useState<Failure>();
  const choose = async (templateId: string) => {
    setValue(templateId);
    setState('saving');
    setFailure(undefined);
    try {
      await writeSignature(props.router, owner, templateId);
      setState('saved');
      props.onChanged();
    } catch (error) {
      setState(undefined);
      setFailure(toFailure(error));
    }
  };
  return (
    <tr data-testid="signature-row" data-kind={owner.kind} data-id={owner.id}>
      <td>
        <span class="tag">{KIND_LABEL[owner.kind]}</span>
        {owner.name}
      </td>
      <td>
        <TemplateSelect
          targets={props.targets}
          kind={TemplateKind.TEMPLATE_KIND_SIGNATURE}
          label={`Signature of ${KIND_LABEL[owner.kind].toLowerCase()} ${owner.name}`}
          value={value ?? owner.signatureTemplateId}
          disabled={state === 'saving'}
          onChange={(id) => void choose(id)}
        />
        {state === 'saved' ? (
          <span class="saved" role="status">
            {' '}
            Saved
          </span>
        ) : null}
        <FailureLine failure={failure} what="Not saved" />
      </td>
    </tr>
  );
}

export function SignaturesSection(props: {
  router: InteractionRouterServiceClient;
  targets: ReplyTargets;
  onChanged: () => void;
}) {
  const list = owners(props.targets);
  const signatures = templatesOfKind(props.targets, TemplateKind.TEMPLATE_KIND_SIGNATURE);
  return (
    <section id="replies-signatures" aria-labelledby="replies-signatures-title">
      <h2 id="replies-signatures-title">Signatures</h2>
      <div class="signatures">
        <div>
          {signatures.length === 0 ? (
            <p class="muted small">No signature templates yet: create a template of kind “Signature” above.</p>
          ) : null}
          <div class="table-wrap">
            <table class="grid">
              <thead>
                <tr>
                  <th>Mailbox, queue or agent</th>
                  <th>Signature</th>
                </tr>
              </thead>
              <tbody>
                {list.map((owner) => (
                  <SignatureRow
                    key={`${owner.kind}:${owner.id}`}
                    router={props.router}
                    targets={props.targets}
                    owner={owner}
                    onChanged={props.onChanged}
                  />
                ))}
              </tbody>
            </table>
          </div>
        </div>
        <SignatureRuleEditor router={props.router} />
      </div>
    </section>
  );
}
