// The agent session's text side: lines typed by the agent, events shown to them, the local state.
import type { ConnectResponse } from '@mailroute/contracts';
import { AgentPresence, OfferRevokedReason, SendState, type Interaction, type Offer } from '@mailroute/contracts';
import { formatDuration, terminalSafe, truncate } from '../format';
import { enumLabel } from '../values';
import { stateLabel } from './interaction.command';

/** A line typed in the agent session, split into its verb and arguments. */
export interface SessionLine {
  verb: string;
  args: string[];
}

/** Splits a session line on white space; the verb is lower-cased. Empty lines and `#` comments give undefined. */
export function parseSessionLine(line: string): SessionLine | undefined {
  const words = line.trim().split(/\s+/).filter(Boolean);
  const [verb, ...args] = words;
  if (!verb || verb.startsWith('#')) return undefined;
  return { verb: verb.toLowerCase(), args };
}

/**
 * Resolves what the agent typed to one of `ids`: the full id, or a unique prefix of at least four
 * characters. Undefined when it names none (or several).
 */
export function resolveRef(ref: string | undefined, ids: readonly string[]): string | undefined {
  if (!ref) return undefined;
  if (ids.includes(ref)) return ref;
  if (ref.length < 4) return undefined;
  const matches = ids.filter((id) => id.startsWith(ref));
  return matches.length === 1 ? matches[0] : undefined;
}

export const sessionHelp = [
  'commands (ids may be shortened to a unique prefix; without an id the newest offer / current interaction is used):',
  '  offers | list                     pending offers and the interactions you hold',
  '  accept [offer-id]                 accept an offer',
  '  decline [offer-id] [reason…]      decline an offer (it goes to another agent)',
  '  show [interaction-id]             the thread (customer messages as text, your replies)',
  '  reply [interaction-id] <text…>    reply in the thread, from the mailbox it arrived at',
  '  complete [interaction-id] [code]  complete an interaction (optional disposition code)',
  '  presence <available|busy|away|offline> [reason…]',
  '  help, quit',
].join('\n');

/** State of the agent's desktop as the stream reports it. */
export class DesktopState {
  readonly offers = new Map<string, Offer>();
  readonly held = new Map<string, Interaction>();
  /** The interaction replies and completes go to when none is named: the last accepted, shown or updated. */
  current: string | undefined;

  newestOffer(): string | undefined {
    return [...this.offers.keys()].at(-1);
  }
}

export function offerLine(offer: Offer, now: Date): string {
  const i = offer.interaction;
  const left = offer.expiresAt ? Math.max(0, Math.round((offer.expiresAt.getTime() - now.getTime()) / 1000)) : undefined;
  return terminalSafe(
    `[offer] ${offer.offerId}  interaction ${i?.interactionId ?? '?'}  queue ${i?.queueId ?? '?'}  from ${i?.customer?.address ?? '?'}  "${truncate(i?.subject ?? '', 60)}"` +
      `${left !== undefined ? `  expires in ${formatDuration(left)}` : ''}${offer.note ? `  note: ${offer.note}` : ''}  → accept ${offer.offerId.slice(0, 12)}`,
  );
}

/** Handles one stream event: updates the state, returns the human line (undefined for heartbeats). */
export function applyEvent(state: DesktopState, event: ConnectResponse, now: Date): string | undefined {
  const e = event.event;
  if (!e) return undefined;
  switch (e.$case) {
    case 'snapshot': {
      for (const offer of e.value.pendingOffers) state.offers.set(offer.offerId, offer);
      for (const interaction of e.value.assigned) state.held.set(interaction.interactionId, interaction);
      state.current ??= e.value.assigned.at(-1)?.interactionId;
      const s = e.value.status;
      return [
        `[connected] ${s?.displayName ?? ''} (${s?.agentId ?? ''}): ${enumLabel(AgentPresence, 'AGENT_PRESENCE', s?.presence ?? 0)}, ${s?.activeInteractions ?? 0}/${s?.capacity ?? 0} active, queues ${s?.queueIds.join(', ') || 'none'}`,
        ...e.value.pendingOffers.map((offer) => offerLine(offer, now)),
        ...e.value.assigned.map((i) =>
          terminalSafe(
            `[held] ${i.interactionId}  ${stateLabel(i.state)}  from ${i.customer?.address ?? '?'}  "${truncate(i.subject, 60)}"`,
          ),
        ),
      ].join('\n');
    }
    case 'offer':
      state.offers.set(e.value.offerId, e.value);
      return offerLine(e.value, now);
    case 'offerRevoked':
      state.offers.delete(e.value.offerId);
      return `[offer revoked] ${e.value.offerId} (${enumLabel(OfferRevokedReason, 'OFFER_REVOKED_REASON', e.value.reason)})`;
    case 'assignment': {
      const i = e.value.interaction;
      if (!i) return undefined;
      state.held.set(i.interactionId, i);
      for (const [offerId, offer] of state.offers)
        if (offer.interaction?.interactionId === i.interactionId) state.offers.delete(offerId);
      state.current = i.interactionId;
      return terminalSafe(
        `[assigned] ${i.interactionId}  from ${i.customer?.address ?? '?'}  "${truncate(i.subject, 60)}"${e.value.note ? `  note: ${e.value.note}` : ''}  → show, reply <text>, complete`,
      );
    }
    case 'assignmentEnded':
      state.held.delete(e.value.interactionId);
      if (state.current === e.value.interactionId) state.current = [...state.held.keys()].at(-1);
      return `[ended] ${e.value.interactionId}`;
    case 'interactionUpdated': {
      const i = e.value.interaction;
      if (!i) return undefined;
      state.held.set(i.interactionId, i);
      return terminalSafe(
        `[updated] ${i.interactionId}  ${stateLabel(i.state)}  ${i.inboundMessageCount} customer message(s), ${i.replyCount} repl${i.replyCount === 1 ? 'y' : 'ies'}`,
      );
    }
    case 'sendResult': {
      const r = e.value;
      const failure = r.failure ? `: ${r.failure.message}` : '';
      // CHECKING / OUTCOME_UNKNOWN: the reply may be with the customer already.
      const mayHaveGone =
        r.state === SendState.SEND_STATE_CHECKING || r.state === SendState.SEND_STATE_OUTCOME_UNKNOWN
          ? ' (may have been sent: do not reply again before looking in Sent Items)'
          : '';
      return terminalSafe(
        `[send] ${r.sendId}  interaction ${r.interactionId}  ${enumLabel(SendState, 'SEND_STATE', r.state)}${mayHaveGone}${failure}`,
      );
    }
    case 'presenceChanged':
      return `[presence] ${enumLabel(AgentPresence, 'AGENT_PRESENCE', e.value.status?.presence ?? 0)}${e.value.status?.presenceReason ? ` (${terminalSafe(e.value.status.presenceReason)})` : ''}`;
    case 'heartbeat':
      return undefined;
    case 'sessionReplaced':
      return '[session replaced] another desktop of yours connected; this one stops';
    case 'draining':
      return '[draining] the router is restarting; reconnecting';
  }
}
