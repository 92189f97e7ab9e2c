import type { ConsoleClients } from '../api/clients';
import type { Route } from '../ui/route';

export function SupervisorConsole(props: { clients: ConsoleClients; route: Route & { area: 'supervisor' } }) {
  return <main class="supervisor">Supervisor console: {props.route.tab}</main>;
}
