// The Replies tab: what mailroute puts in and around replies — templates (with attachments and a rendered
// preview), signatures per mailbox, queue and agent with the tenant's signature rule, and automatic
// acknowledgements per mailbox and queue. Every change goes through the workload-manager API, as the CLI's do.
import { MailboxSyncState, TemplateKind } from '@mailroute/contracts';
import type { ConsoleClients } from '../../api/clients';
import { usePoll } from '../../ui/use-poll';
import { FailureLine, listAll } from '../shared';
import { AcknowledgementsSection } from './acknowledgements-section';
import type { ReplyTargets } from './reply-targets';
import { SignaturesSection } from './signatures-section';
import { TemplatesSection } from './templates-section';

export function RepliesTab(props: { clients: ConsoleClients }) {
  const { router, mailboxes: mailboxClient } = props.clients;
  const templates = usePoll(
    () =>
      listAll(
        (page) => router.listTemplates({ page, query: '', kind: TemplateKind.TEMPLATE_KIND_UNSPECIFIED }),
        (r) => r.templates,
      ),
    30_000,
  );
  const queues = usePoll(
    () =>
      listAll(
        (page) => router.listQueues({ page }),
        (r) => r.queues,
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
    60_000,
  );
  const settings = usePoll(
    () =>
      listAll(
        (page) => router.listMailboxSettings({ page }),
        (r) => r.settings,
      ),
    30_000,
  );
  const targets: ReplyTargets = {
    templates: templates.data ?? [],
    queues: queues.data ?? [],
    agents: agents.data ?? [],
    mailboxes: mailboxes.data ?? [],
    settings: settings.data ?? [],
  };
  const refresh = () => {
    templates.refresh();
    queues.refresh();
    agents.refresh();
    settings.refresh();
  };
  return (
    <section aria-label="Replies" class="replies">
      <p class="muted small">
        Templates agents insert into replies, the signatures outbound-send appends, and the automatic acknowledgements customers
        get. Changes apply to the next reply.
      </p>
      <nav class="in-page" aria-label="Replies sections">
        <a href="#/supervisor/replies" onClick={(e) => jumpTo(e, 'replies-templates')}>
          Templates
        </a>
        <a href="#/supervisor/replies" onClick={(e) => jumpTo(e, 'replies-signatures')}>
          Signatures
        </a>
        <a href="#/supervisor/replies" onClick={(e) => jumpTo(e, 'replies-acknowledgements')}>
          Acknowledgements
        </a>
      </nav>
      <FailureLine failure={queues.failure} what="queues" />
      <FailureLine failure={agents.failure} what="agents" />
      <FailureLine failure={mailboxes.failure} what="mailboxes" />
      <FailureLine failure={settings.failure} what="mailbox settings" />
      <TemplatesSection clients={props.clients} targets={targets} failure={templates.failure} onChanged={refresh} />
      <SignaturesSection router={router} targets={targets} onChanged={refresh} />
      <AcknowledgementsSection router={router} targets={targets} onChanged={refresh} />
    </section>
  );
}

/** In-page links without touching the hash (the hash names the tab). */
function jumpTo(event: Event, id: string): void {
  event.preventDefault();
  document.getElementById(id)?.scrollIntoView({ block: 'start' });
}
