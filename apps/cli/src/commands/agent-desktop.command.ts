import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import {
  AcceptResponse,
  AgentPresence,
  CompleteResponse,
  ConnectResponse,
  ListMyInteractionMessagesResponse,
  ListMyInteractionsResponse,
  ReplyMode,
  ReplyResponse,
  SendState,
  SetPresenceResponse,
} from '@mailroute/contracts';
import { backoffDelayMs, sleep } from '@mailroute/platform';
import { ClientError, Status } from 'nice-grpc-common';
import { signInAgent } from '../agent-sign-in';
import { flag, str, type Command, type CommandContext } from '../command';
import { describeFailure, UsageError } from '../errors';
import { formatDuration, formatTime, table, terminalSafe, truncate } from '../format';
import { enumChoices, enumLabel, parseDuration, parseEnum } from '../values';
import { interactionHeaders, interactionRow, stateLabel, threadView } from './interaction.command';
import {
  applyEvent,
  DesktopState,
  offerLine,
  parseSessionLine,
  resolveRef,
  sessionHelp,
  type SessionLine,
} from './desktop-session';

export const agentDesktopCommands: Command[] = [
  {
    path: ['agent', 'connect'],
    summary: 'agent mode: sign in with Microsoft, watch offers on the desktop stream, accept, reply and complete',
    options: {
      authority: {
        type: 'string',
        value: '<https://host>',
        description: 'Entra ID authority (MAILROUTE_AGENT_AUTHORITY, default https://login.microsoftonline.com)',
      },
      directory: {
        type: 'string',
        value: '<tenant-id>',
        description: "agents' Entra directory id or domain (MAILROUTE_AGENT_DIRECTORY)",
      },
      'client-id': {
        type: 'string',
        value: '<guid>',
        description: "agent desktop app registration (MAILROUTE_AGENT_CLIENT_ID; the router's ROUTER_AGENT_AUDIENCE)",
      },
      presence: {
        type: 'string',
        value: `<${enumChoices(AgentPresence, 'AGENT_PRESENCE')
          .filter((p) => p !== 'offline')
          .join('|')}>`,
        description: 'presence on connecting (default: keep, or available)',
      },
      instance: {
        type: 'string',
        value: '<id>',
        description: 'desktop instance id; reuse it to resume (default: random per run)',
      },
      heartbeat: {
        type: 'string',
        value: '<duration>',
        description: 'heartbeat interval asked of the server, 5s-60s (default 15s)',
      },
      watch: { type: 'boolean', description: 'only watch: ignore stdin, run until Ctrl-C' },
    },
    details: `Reads commands from stdin, one per line, while events are printed as they arrive.\n${sessionHelp}\nWith --json every event and result is one JSON line ({"event": …} / {"result": …}).`,
    run: runAgentSession,
  },
];

/** Reconnects after a lost stream before the session gives up (the router restarting or failing over). */
const maxStreamReconnects = 5;

/**
 * The wait before each reconnect: 1 s first, because a router replica that drained or restarted takes
 * about that long to be replaced behind its address; doubling to 16 s, so five reconnects cover half
 * a minute of outage before the session gives up.
 */
const streamReconnectBackoff = { initialDelayMs: 1_000, maxDelayMs: 16_000 };

async function runAgentSession(context: CommandContext): Promise<number> {
  const { io, values, settings } = context;
  const presence = str(values, 'presence');
  const initialPresence = presence
    ? parseEnum<AgentPresence>(AgentPresence, 'AGENT_PRESENCE', presence, '--presence')
    : AgentPresence.AGENT_PRESENCE_UNSPECIFIED;
  const heartbeat = str(values, 'heartbeat');
  const instance = str(values, 'instance') ?? `cli-${randomBytes(6).toString('hex')}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(instance)) throw new UsageError('--instance: 1-64 characters of A-Z a-z 0-9 . _ -');

  const credential = await signInAgent(settings.agent, (message) => io.stderr(terminalSafe(message)), io.signal);
  if (!settings.json)
    io.stderr(
      `signed in${credential.username ? ` as ${terminalSafe(credential.username)}` : ''}; connecting to ${settings.router}`,
    );
  const desk = context.clients.desktop(() => credential.token());
  const state = new DesktopState();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  io.signal.addEventListener('abort', onAbort);
  const emit = (json: unknown, human: string | undefined) => {
    if (settings.json) io.stdout(JSON.stringify(json));
    else if (human !== undefined) io.stdout(human);
  };

  const streamDone = (async (): Promise<number> => {
    let failures = 0;
    while (!stop.signal.aborted) {
      let reconnectAfterMs: number | undefined;
      try {
        const events = desk.client.connect(
          {
            clientInstanceId: instance,
            initialPresence,
            ...(heartbeat ? { heartbeatInterval: parseDuration(heartbeat, '--heartbeat') } : {}),
          },
          { metadata: desk.metadata(), signal: stop.signal, deadline: undefined },
        );
        for await (const event of events) {
          failures = 0;
          emit({ event: ConnectResponse.toJSON(event) }, applyEvent(state, event, context.now()));
          if (event.event?.$case === 'sessionReplaced') return 0;
          if (event.event?.$case === 'draining') {
            const wait = event.event.value.reconnectAfter;
            reconnectAfterMs = wait ? Math.round((wait.seconds + wait.nanos / 1e9) * 1000) : 0;
          }
        }
        if (reconnectAfterMs === undefined) {
          if (!stop.signal.aborted) io.stderr('the router ended the stream');
          return stop.signal.aborted ? 0 : 1;
        }
      } catch (error) {
        if (stop.signal.aborted) return 0;
        const code = error instanceof ClientError ? error.code : undefined;
        if (code === Status.UNAUTHENTICATED && failures === 0 && (await credential.refresh())) {
          failures += 1;
          continue;
        }
        if ((code === Status.UNAVAILABLE || code === Status.INTERNAL) && failures < maxStreamReconnects) {
          failures += 1;
          reconnectAfterMs = backoffDelayMs(failures, streamReconnectBackoff);
          io.stderr(
            `stream lost (${code === undefined ? 'error' : Status[code]}); reconnecting in ${formatDuration(reconnectAfterMs / 1000)}`,
          );
        } else {
          for (const line of describeFailure(desk.fail(error))) io.stderr(line);
          return 1;
        }
      }
      await sleep(reconnectAfterMs ?? 0, stop.signal);
    }
    return 0;
  })().finally(() => stop.abort());

  const commandsDone = flag(values, 'watch')
    ? new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve()))
    : (async () => {
        const lines = createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
        stop.signal.addEventListener('abort', () => lines.close());
        for await (const line of lines) {
          const parsed = parseSessionLine(line);
          if (!parsed) continue;
          if (parsed.verb === 'quit' || parsed.verb === 'exit') break;
          try {
            await runSessionCommand(parsed, state, desk.api, emit, context.now());
          } catch (error) {
            for (const text of describeFailure(error)) io.stderr(text);
          }
        }
        stop.abort();
      })();

  const [code] = await Promise.all([streamDone, commandsDone]);
  io.signal.removeEventListener('abort', onAbort);
  return code;
}

type DesktopApi = ReturnType<CommandContext['clients']['desktop']>['api'];

async function runSessionCommand(
  line: SessionLine,
  state: DesktopState,
  api: DesktopApi,
  emit: (json: unknown, human: string | undefined) => void,
  now: Date,
): Promise<void> {
  const { verb, args } = line;
  const heldIds = () => [...state.held.keys()];
  /** The interaction an action names: its first argument when that is a held id (or prefix), else the current one. */
  const target = (): { id: string; rest: string[] } => {
    const named = resolveRef(args[0], heldIds());
    if (named) return { id: named, rest: args.slice(1) };
    if (!state.current) throw new UsageError('no current interaction: accept an offer first, or name the interaction');
    return { id: state.current, rest: args };
  };
  switch (verb) {
    case 'help':
      emit({ result: { help: sessionHelp } }, sessionHelp);
      return;
    case 'offers':
    case 'list': {
      const mine = await api.listMyInteractions({ page: { pageSize: 100, pageToken: '' }, states: [] });
      for (const i of mine.interactions) if (i.agentId) state.held.set(i.interactionId, i);
      emit(
        { result: ListMyInteractionsResponse.toJSON(mine) },
        [
          state.offers.size ? [...state.offers.values()].map((offer) => offerLine(offer, now)).join('\n') : 'no pending offers',
          mine.interactions.length
            ? table(interactionHeaders, mine.interactions.map(interactionRow))
            : 'you hold no interactions',
        ].join('\n'),
      );
      return;
    }
    case 'accept': {
      const offerId = args[0] ? (resolveRef(args[0], [...state.offers.keys()]) ?? args[0]) : state.newestOffer();
      if (!offerId) throw new UsageError('no pending offer to accept');
      const response = await api.accept({ offerId });
      const i = response.interaction;
      state.offers.delete(offerId);
      if (i) {
        state.held.set(i.interactionId, i);
        state.current = i.interactionId;
      }
      emit(
        { result: AcceptResponse.toJSON(response) },
        terminalSafe(`accepted: ${i?.interactionId ?? ''} "${truncate(i?.subject ?? '', 60)}" — show, reply <text>, complete`),
      );
      return;
    }
    case 'decline': {
      const named = resolveRef(args[0], [...state.offers.keys()]);
      const offerId = named ?? state.newestOffer();
      if (!offerId) throw new UsageError('no pending offer to decline');
      await api.decline({ offerId, reason: (named ? args.slice(1) : args).join(' ') });
      state.offers.delete(offerId);
      emit({ result: { declined: offerId } }, `declined ${offerId}`);
      return;
    }
    case 'show': {
      const { id } = target();
      const response = await api.listMyInteractionMessages({ interactionId: id, page: { pageSize: 20, pageToken: '' } });
      state.current = id;
      emit({ result: ListMyInteractionMessagesResponse.toJSON(response) }, threadView(response.messages));
      return;
    }
    case 'reply': {
      const { id, rest } = target();
      const text = rest.join(' ').trim();
      if (!text) throw new UsageError('reply needs the text: reply [interaction-id] <text…>');
      const response = await api.reply({
        idempotencyKey: randomUUID(),
        interactionId: id,
        replyToGraphMessageId: '',
        mode: ReplyMode.REPLY_MODE_REPLY,
        content: { subject: '', bodyHtml: '', bodyText: text, to: [], cc: [], bcc: [], attachments: [], importance: 0 },
        completeAfterSend: false,
      });
      emit(
        { result: ReplyResponse.toJSON(response) },
        `reply ${response.sendId} ${enumLabel(SendState, 'SEND_STATE', response.state)} (the send result follows on the stream)`,
      );
      return;
    }
    case 'complete': {
      const { id, rest } = target();
      const response = await api.complete({ interactionId: id, dispositionCode: rest[0] ?? '', note: '' });
      state.held.delete(id);
      if (state.current === id) state.current = [...state.held.keys()].at(-1);
      emit({ result: CompleteResponse.toJSON(response) }, `completed ${id} (${stateLabel(response.interaction?.state ?? 0)})`);
      return;
    }
    case 'presence': {
      const [value, ...reason] = args;
      if (!value) throw new UsageError('presence needs a value: available, busy, away or offline');
      const response = await api.setPresence({
        presence: parseEnum<AgentPresence>(AgentPresence, 'AGENT_PRESENCE', value, 'presence'),
        reason: reason.join(' '),
      });
      emit(
        { result: SetPresenceResponse.toJSON(response) },
        `presence ${enumLabel(AgentPresence, 'AGENT_PRESENCE', response.status?.presence ?? 0)} since ${formatTime(response.status?.presenceSince)}`,
      );
      return;
    }
    default:
      throw new UsageError(`unknown command "${verb}" (type help)`);
  }
}
