// The supervisor console: live queues, agents, interactions, configuration — one tab each.
import type { ConsoleClients } from '../api/clients';
import { SUPERVISOR_TABS, type Route, type SupervisorTab } from '../ui/route';
import { AgentsTab } from './agents-tab';
import { ConfigurationTab } from './configuration-tab';
import { HoursTab } from './hours/hours-tab';
import { InteractionsTab } from './interactions-tab';
import { QueuesTab } from './queues-tab';
import { RepliesTab } from './replies/replies-tab';

const TAB_LABELS: Record<SupervisorTab, string> = {
  queues: 'Queues',
  agents: 'Agents',
  interactions: 'Interactions',
  configuration: 'Configuration',
  replies: 'Replies',
  hours: 'Hours & alerts',
};

export function SupervisorConsole(props: { clients: ConsoleClients; route: Route & { area: 'supervisor' } }) {
  const { tab, id } = props.route;
  return (
    <main class="supervisor" data-testid="supervisor-console">
      <nav class="tabs" aria-label="Supervisor">
        {SUPERVISOR_TABS.map((name) => (
          <a key={name} href={`#/supervisor/${name}`} aria-current={tab === name ? 'page' : undefined}>
            {TAB_LABELS[name]}
          </a>
        ))}
      </nav>
      {tab === 'queues' ? <QueuesTab router={props.clients.router} /> : null}
      {tab === 'agents' ? <AgentsTab router={props.clients.router} /> : null}
      {tab === 'interactions' ? <InteractionsTab router={props.clients.router} selectedId={id} /> : null}
      {tab === 'configuration' ? <ConfigurationTab clients={props.clients} /> : null}
      {tab === 'replies' ? <RepliesTab clients={props.clients} /> : null}
      {tab === 'hours' ? <HoursTab router={props.clients.router} /> : null}
    </main>
  );
}
