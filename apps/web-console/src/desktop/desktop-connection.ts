// Keeps the agent's Connect stream open: reconnects after a drop (with backoff), after the server's
// Draining, and when nothing arrived for three heartbeat intervals; stops for good when another
// desktop took over (SessionReplaced), the sign-in ended, or the user is not an agent. Every new
// stream starts with a Snapshot, which replaces the desktop's state (see desktop-state.ts).
import { AgentPresence, type AgentDesktopServiceClient, type ConnectResponse } from '@mailroute/contracts';
import { isAbortError } from 'abort-controller-x';
import { toFailure } from '../api/errors';

const HEARTBEAT_SECONDS = 15;
const SILENCE_LIMIT_MS = 3 * HEARTBEAT_SECONDS * 1000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000] as const;

/** How the stream is doing, for the status line and the whole-page states. */
export type ConnectionStatus =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'reconnecting'; reason: string; attempt: number }
  | { kind: 'replaced' }
  | { kind: 'signed-out'; reason: string }
  | { kind: 'not-agent'; reason: string }
  | { kind: 'offline' };

export interface DesktopConnection {
  /** Ends the stream; no reconnect. */
  stop(): void;
  /** Connects again at once (after SessionReplaced or going offline, on the user's request). */
  restart(initialPresence?: AgentPresence): void;
}

/** A per-tab id, kept across reloads of the tab so a reload resumes the same desktop instance. */
export function clientInstanceId(storage: Storage = sessionStorage): string {
  const key = 'mailroute.console.clientInstanceId';
  let id = storage.getItem(key);
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    storage.setItem(key, id);
  }
  return id;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/** Opens the stream and keeps it open until stopped. */
export function connectDesktop(options: {
  client: AgentDesktopServiceClient;
  instanceId: string;
  onEvent: (message: ConnectResponse, receivedAt: number) => void;
  onStatus: (status: ConnectionStatus) => void;
}): DesktopConnection {
  let run: AbortController | undefined;

  async function loop(initialPresence: AgentPresence, signal: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!signal.aborted) {
      const stream = new AbortController();
      const stopStream = () => stream.abort();
      signal.addEventListener('abort', stopStream, { once: true });
      let silence: ReturnType<typeof setTimeout> | undefined;
      let silent = false;
      const armWatchdog = () => {
        clearTimeout(silence);
        silence = setTimeout(() => ((silent = true), stream.abort()), SILENCE_LIMIT_MS);
      };
      let reconnectAfterMs: number | undefined;
      let reason = 'the connection dropped';
      options.onStatus(attempt === 0 ? { kind: 'connecting' } : { kind: 'reconnecting', reason, attempt });
      try {
        armWatchdog();
        const messages = options.client.connect(
          {
            clientInstanceId: options.instanceId,
            // The first stream takes the chosen presence; a reconnect keeps whatever the agent has.
            initialPresence: attempt === 0 ? initialPresence : AgentPresence.AGENT_PRESENCE_UNSPECIFIED,
            heartbeatInterval: { seconds: HEARTBEAT_SECONDS, nanos: 0 },
          },
          { signal: stream.signal },
        );
        for await (const message of messages) {
          armWatchdog();
          if (message.event?.$case === 'snapshot') {
            attempt = 0;
            options.onStatus({ kind: 'live' });
          }
          options.onEvent(message, Date.now());
          if (message.event?.$case === 'sessionReplaced') {
            options.onStatus({ kind: 'replaced' });
            return;
          }
          if (message.event?.$case === 'draining') {
            const after = message.event.value.reconnectAfter;
            reconnectAfterMs = after ? after.seconds * 1000 + after.nanos / 1e6 : 0;
            reason = 'the server is restarting';
          }
        }
        // The stream ended without an error: after SetPresence(OFFLINE), or a Draining.
        if (reconnectAfterMs === undefined) {
          options.onStatus({ kind: 'offline' });
          return;
        }
      } catch (error) {
        if (signal.aborted) return;
        if (!(silent || isAbortError(error))) {
          const failure = toFailure(error);
          if (failure.kind === 'signed-out') return options.onStatus({ kind: 'signed-out', reason: failure.message });
          if (failure.kind === 'not-allowed') return options.onStatus({ kind: 'not-agent', reason: failure.message });
          reason = failure.kind === 'unavailable' ? 'the connection dropped' : failure.message;
        } else {
          reason = 'nothing arrived for a while';
        }
      } finally {
        clearTimeout(silence);
        signal.removeEventListener('abort', stopStream);
      }
      attempt += 1;
      options.onStatus({ kind: 'reconnecting', reason, attempt });
      await sleep(reconnectAfterMs ?? BACKOFF_MS[Math.min(attempt - 1, BACKOFF_MS.length - 1)] ?? 15000, signal);
    }
  }

  const start = (initialPresence: AgentPresence) => {
    run?.abort();
    const controller = new AbortController();
    run = controller;
    void loop(initialPresence, controller.signal);
  };
  start(AgentPresence.AGENT_PRESENCE_UNSPECIFIED);
  return {
    stop: () => run?.abort(),
    restart: (initialPresence = AgentPresence.AGENT_PRESENCE_UNSPECIFIED) => start(initialPresence),
  };
}
