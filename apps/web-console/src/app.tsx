// The page: header (who is signed in, the two areas), then the agent desktop or the supervisor console.
import type { ConsoleClients } from './api/clients';
import type { Auth, Session } from './auth/session';
import type { ConsoleConfig } from './config';
import { AgentDesktop } from './desktop/agent-desktop';
import { SupervisorConsole } from './supervisor/supervisor-console';
import { navigate, useRoute } from './ui/route';
import { NotAllowedScreen, SignedOutScreen } from './ui/screens';

function Header(props: { config: ConsoleConfig; session: Session; area: 'desktop' | 'supervisor' }) {
  const { user } = props.session;
  return (
    <header class="topbar">
      <span class="brand">{props.config.title}</span>
      <nav aria-label="Areas">
        <a href="#/desktop" aria-current={props.area === 'desktop' ? 'page' : undefined}>
          Agent desktop
        </a>
        <a href="#/supervisor/queues" aria-current={props.area === 'supervisor' ? 'page' : undefined}>
          Supervisor
        </a>
      </nav>
      <span class="user" title={user.username}>
        {user.name}
        {user.isSupervisor ? <span class="badge">Supervisor</span> : null}
      </span>
      <button class="link" onClick={() => void props.session.signOut()}>
        Sign out
      </button>
    </header>
  );
}

export function App(props: { config: ConsoleConfig; auth: Auth; clients: ConsoleClients | undefined }) {
  const route = useRoute();
  const { session } = props.auth;
  if (!session || !props.clients) return <SignedOutScreen onSignIn={() => void props.auth.signIn()} />;
  return (
    <div class="shell">
      <Header config={props.config} session={session} area={route.area} />
      {route.area === 'supervisor' ? (
        session.user.isSupervisor ? (
          <SupervisorConsole clients={props.clients} route={route} />
        ) : (
          <NotAllowedScreen
            what="The supervisor console is for supervisors. Your account does not have the Supervisor role."
            detail="Ask your administrator to assign you the Supervisor app role if you need it."
          >
            <button class="primary" onClick={() => navigate({ area: 'desktop' })}>
              Go to the agent desktop
            </button>
          </NotAllowedScreen>
        )
      ) : (
        <AgentDesktop
          clients={props.clients}
          session={session}
          route={route}
          uploadUrl={props.config.uploadUrl}
          onSignIn={() => void props.auth.signIn()}
        />
      )}
    </div>
  );
}
