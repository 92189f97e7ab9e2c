import type { ConsoleClients } from '../api/clients';
import type { Session } from '../auth/session';
import type { Route } from '../ui/route';

export function AgentDesktop(props: { clients: ConsoleClients; session: Session; route: Route; onSignIn: () => void }) {
  return <main class="desktop">Agent desktop for {props.session.user.name}</main>;
}
