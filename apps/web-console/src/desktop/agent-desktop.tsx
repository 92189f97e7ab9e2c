// The agent desktop: presence and connection at the top; offers (with time left) and the agent's work on
// the left; the open interaction on the right. Whole-page states for a desktop taken over elsewhere,
// a user who is not an agent, an agent who went offline, and an ended sign-in.
import {
  AgentPresence,
  AssignmentEndReason,
  TransferTargetKind,
  type ConnectResponse,
  type Interaction,
} from '@mailroute/contracts';
import { useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import type { ConsoleClients } from '../api/clients';
import { toFailure } from '../api/errors';
import type { Session } from '../auth/session';
import { enumLabel, formatAddress, formatDuration } from '../ui/format';
import { navigate, type Route } from '../ui/route';
import { Notice, NotAllowedScreen, SignedOutScreen } from '../ui/screens';
import { useNow } from '../ui/use-now';
import { clientInstanceId, connectDesktop, type ConnectionStatus, type DesktopConnection } from './desktop-connection';
import {
  applyDesktopEvent,
  initialDesktopState,
  offerTimeLeftMs,
  recordSend,
  type DesktopState,
  type SendProgress,
} from './desktop-state';
import { InteractionView } from './interaction-view';
import { OfferCard } from './offer-card';

type Action = { type: 'event'; message: ConnectResponse; receivedAt: number } | { type: 'sent'; progress: SendProgress };

function reduce(state: DesktopState, action: Action): DesktopState {
  return action.type === 'event'
    ? applyDesktopEvent(state, action.message, action.receivedAt)
    : recordSend(state, action.progress);
}

const PRESENCES = [
  AgentPresence.AGENT_PRESENCE_AVAILABLE,
  AgentPresence.AGENT_PRESENCE_BUSY,
  AgentPresence.AGENT_PRESENCE_AWAY,
  AgentPresence.AGENT_PRESENCE_OFFLINE,
] as const;

const presenceLabel = (presence: AgentPresence) => enumLabel(AgentPresence[presence] ?? '', 'AGENT_PRESENCE_');

function ConnectionLine(props: { status: ConnectionStatus }) {
  const { status } = props;
  if (status.kind === 'live')
    return (
      <span class="conn live" data-testid="connection" data-state="live">
        ● Connected
      </span>
    );
  if (status.kind === 'reconnecting') {
    return (
      <span class="conn down" data-testid="connection" data-state="reconnecting" role="status">
        ● Reconnecting ({status.reason})… your work is kept
      </span>
    );
  }
  return (
    <span class="conn" data-testid="connection" data-state={status.kind}>
      ● Connecting…
    </span>
  );
}

function PresencePicker(props: {
  presence: AgentPresence | undefined;
  onChange: (presence: AgentPresence) => void;
  disabled: boolean;
}) {
  return (
    <div class="presence" role="radiogroup" aria-label="Presence">
      {PRESENCES.map((presence) => (
        <button
          key={presence}
          role="radio"
          aria-checked={props.presence === presence}
          class={`presence-${AgentPresence[presence]?.slice(15).toLowerCase()}${props.presence === presence ? ' active' : ''}`}
          disabled={props.disabled}
          onClick={() => props.onChange(presence)}
        >
          {presenceLabel(presence)}
        </button>
      ))}
    </div>
  );
}

const endedText: Record<number, string> = {
  [AssignmentEndReason.ASSIGNMENT_END_REASON_COMPLETED]: 'was completed',
  [AssignmentEndReason.ASSIGNMENT_END_REASON_TRANSFERRED]: 'was transferred',
  [AssignmentEndReason.ASSIGNMENT_END_REASON_REASSIGNED]: 'was given to another agent',
};

export function AgentDesktop(props: {
  clients: ConsoleClients;
  session: Session;
  route: Route;
  uploadUrl: string;
  onSignIn: () => void;
}) {
  const client = props.clients.desktop;
  const [state, dispatch] = useReducer(reduce, initialDesktopState);
  const [connection, setConnection] = useState<ConnectionStatus>({ kind: 'connecting' });
  const [queueNames, setQueueNames] = useState<Record<string, string>>({});
  const [actionError, setActionError] = useState<string>();
  const stream = useRef<DesktopConnection>();
  const now = useNow(1000);

  useEffect(() => {
    const connectionHandle = connectDesktop({
      client,
      instanceId: clientInstanceId(),
      onEvent: (message, receivedAt) => dispatch({ type: 'event', message, receivedAt }),
      onStatus: setConnection,
    });
    stream.current = connectionHandle;
    return () => connectionHandle.stop();
  }, [client]);

  // Queue names for offers and the open interaction (the agent API lists queues as transfer targets).
  useEffect(() => {
    if (connection.kind !== 'live') return;
    client
      .listTransferTargets({
        page: { pageSize: 100, pageToken: '' },
        kind: TransferTargetKind.TRANSFER_TARGET_KIND_QUEUE,
        nameContains: '',
      })
      .then((response) =>
        setQueueNames(
          Object.fromEntries(
            response.targets.flatMap((t) =>
              t.target?.target?.$case === 'queueId' ? [[t.target.target.value, t.displayName]] : [],
            ),
          ),
        ),
      )
      .catch(() => undefined);
  }, [client, connection.kind]);

  const offers = useMemo(
    () => Object.values(state.offers).sort((a, b) => (a.expiresAt?.getTime() ?? 0) - (b.expiresAt?.getTime() ?? 0)),
    [state.offers],
  );
  const assigned = useMemo(
    () => Object.values(state.assigned).sort((a, b) => (a.assignedAt?.getTime() ?? 0) - (b.assignedAt?.getTime() ?? 0)),
    [state.assigned],
  );
  const openId = props.route.area === 'desktop' ? props.route.interactionId : undefined;
  const open: Interaction | undefined = openId ? state.assigned[openId] : undefined;
  const queueName = (id: string) => queueNames[id] ?? id;

  // Open the first piece of work when nothing is open.
  useEffect(() => {
    if (!state.synced) return;
    if ((!openId || !state.assigned[openId]) && assigned[0])
      navigate({ area: 'desktop', interactionId: assigned[0].interactionId });
  }, [state.synced, openId, assigned.length]);

  const run = async (action: () => Promise<unknown>) => {
    setActionError(undefined);
    try {
      await action();
    } catch (error) {
      const failure = toFailure(error);
      if (failure.kind === 'signed-out') setConnection({ kind: 'signed-out', reason: failure.message });
      else setActionError(failure.message);
    }
  };

  if (connection.kind === 'signed-out') return <SignedOutScreen onSignIn={props.onSignIn} reason={connection.reason} />;
  if (connection.kind === 'not-agent') {
    return (
      <NotAllowedScreen what="You are signed in, but you are not an agent of this contact center." detail={connection.reason}>
        {props.session.user.isSupervisor ? (
          <button class="primary" onClick={() => navigate({ area: 'supervisor', tab: 'queues' })}>
            Go to the supervisor console
          </button>
        ) : null}
      </NotAllowedScreen>
    );
  }
  if (connection.kind === 'replaced') {
    return (
      <Notice title="This desktop was opened somewhere else" tone="warn" testId="session-replaced">
        <p>
          You opened the desktop in another tab or window; offers now go there. Close this tab, or take the desktop back here.
        </p>
        <button class="primary" onClick={() => stream.current?.restart()}>
          Use the desktop here
        </button>
      </Notice>
    );
  }
  if (connection.kind === 'offline') {
    return (
      <Notice title="You are offline" testId="offline">
        <p>You receive no offers. Your open work stays yours.</p>
        <button class="primary" onClick={() => stream.current?.restart(AgentPresence.AGENT_PRESENCE_AVAILABLE)} autoFocus>
          Go available
        </button>{' '}
        <button onClick={() => stream.current?.restart(AgentPresence.AGENT_PRESENCE_AWAY)}>Connect as away</button>
      </Notice>
    );
  }

  const status = state.status;
  const available = status?.presence === AgentPresence.AGENT_PRESENCE_AVAILABLE;
  return (
    <main class="desktop" data-testid="agent-desktop">
      <div class="statusbar">
        <PresencePicker
          presence={status?.presence}
          disabled={connection.kind !== 'live'}
          onChange={(presence) => void run(() => client.setPresence({ presence, reason: '' }))}
        />
        {status ? (
          <span class="load" data-testid="load">
            {assigned.length} of {status.capacity} in hand
          </span>
        ) : null}
        <ConnectionLine status={connection} />
      </div>
      {actionError ? (
        <p class="error banner" role="alert">
          {actionError}{' '}
          <button class="link" onClick={() => setActionError(undefined)}>
            Dismiss
          </button>
        </p>
      ) : null}
      <div class="desk">
        <aside class="worklist" aria-label="Offers and work">
          <section aria-labelledby="offers-title">
            <h2 id="offers-title">
              Offers <span class="count">{offers.length}</span>
            </h2>
            {offers.length === 0 ? (
              <p class="empty" data-testid="no-offers">
                {!state.synced
                  ? 'Loading…'
                  : available
                    ? 'No offers right now. New mail for you appears here; you have time to accept it.'
                    : `No offers while you are ${presenceLabel(status?.presence ?? AgentPresence.AGENT_PRESENCE_AWAY).toLowerCase()}. Choose Available to receive mail.`}
              </p>
            ) : (
              offers.map((offer) => (
                <OfferCard
                  key={offer.offerId}
                  offer={offer}
                  timeLeftMs={offerTimeLeftMs(offer, state, now)}
                  queueName={queueName(offer.interaction?.queueId ?? '')}
                  onAccept={() =>
                    run(async () => {
                      const accepted = await client.accept({ offerId: offer.offerId });
                      if (accepted.interaction) navigate({ area: 'desktop', interactionId: accepted.interaction.interactionId });
                    })
                  }
                  onDecline={() => run(() => client.decline({ offerId: offer.offerId, reason: '' }))}
                />
              ))
            )}
          </section>
          <section aria-labelledby="work-title">
            <h2 id="work-title">
              My work <span class="count">{assigned.length}</span>
            </h2>
            {assigned.length === 0 ? <p class="empty">Nothing in hand.</p> : null}
            <ul class="work">
              {assigned.map((interaction) => (
                <li key={interaction.interactionId}>
                  <a
                    href={`#/desktop/${encodeURIComponent(interaction.interactionId)}`}
                    aria-current={interaction.interactionId === openId ? 'true' : undefined}
                    data-testid="work-item"
                  >
                    <strong>{interaction.subject || '(no subject)'}</strong>
                    <span class="muted small">
                      {formatAddress(interaction.customer)} · {formatDuration(now - (interaction.assignedAt?.getTime() ?? now))}{' '}
                      in hand
                    </span>
                  </a>
                </li>
              ))}
            </ul>
            {state.ended.map((notice) => (
              <p key={notice.interactionId} class="muted small ended">
                “{notice.subject || notice.interactionId}” {endedText[notice.reason] ?? 'left your list'}
                {notice.by ? ` by ${notice.by}` : ''}.
              </p>
            ))}
          </section>
        </aside>
        <div class="workspace">
          {open ? (
            <InteractionView
              key={open.interactionId}
              client={client}
              interaction={open}
              queueName={queueName(open.queueId)}
              sends={Object.values(state.sends).filter((s) => s.interactionId === open.interactionId)}
              uploadUrl={props.uploadUrl}
              idToken={() => props.session.idToken()}
              onSent={(progress) => dispatch({ type: 'sent', progress })}
              onClosed={() => navigate({ area: 'desktop' })}
            />
          ) : (
            <div class="placeholder" data-testid="nothing-open">
              <h2>{offers.length ? 'Accept an offer to start' : 'Nothing open'}</h2>
              <p class="muted">
                {offers.length
                  ? 'The offer on the left waits for you; Accept opens it here.'
                  : available
                    ? 'You are available. When mail is routed to you, it appears on the left.'
                    : 'Choose Available at the top to receive mail.'}
              </p>
            </div>
          )}
        </div>
      </div>
    </main>
  );
}
