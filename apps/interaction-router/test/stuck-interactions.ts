import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Db } from 'mongodb';
import { InteractionState, StateChangeReason } from '@mailroute/contracts';
import type { RouterStores } from '../src/store/router-stores';
import type { DesktopLedger } from './desktop-agent-simulator';

const stateName = (state: number | undefined): string =>
  state === undefined ? '-' : (InteractionState[state] ?? String(state)).replace('INTERACTION_STATE_', '');
const reasonName = (reason: number): string => (StateChangeReason[reason] ?? String(reason)).replace('STATE_CHANGE_REASON_', '');

/** A router process's output, with the name its report uses. */
export interface ProcessLog {
  label: string;
  output: readonly string[];
}

/**
 * What a process test knows about interactions that never finished, for its failure message: the
 * agents' side (the ledger: who held it, which offers of it were shown, accepted, lost with a
 * stream, held back, and failed calls naming it), the store's side (the current document, every
 * history version with its outbox flag `unpublishedAt`, the waiting and offer index entries, the
 * capacity slots holding it, the planner lease) and each process's log lines naming it. Times are
 * ms relative to `t0`.
 */
export async function describeStuckInteractions(input: {
  tenantId: string;
  ids: readonly string[];
  stores: RouterStores;
  /** The router's database, for what the ports do not expose (a history entry's outbox flag, the lease rows). */
  db: Db;
  ledger: DesktopLedger;
  logs: readonly ProcessLog[];
  t0: number;
}): Promise<string> {
  const { tenantId, stores, db, ledger, t0 } = input;
  const at = (ms: number | undefined) => (ms === undefined ? '-' : `${ms - t0}`);
  const lines: string[] = [];
  const slots = await stores.slots.list({ prefix: `${tenantId}/`, limit: 100_000 }).catch(() => []);
  const leases = await db
    .collection<{ key: string; owner: string; epoch: number; expiresAt: Date; released?: boolean }>('leases')
    .find({ key: `interaction-router/planner/${tenantId}` })
    .sort({ epoch: -1 })
    .limit(3)
    .toArray()
    .catch(() => []);
  lines.push(
    `planner lease (newest first): ${leases.map((l) => `${l.owner} epoch ${l.epoch} expires ${at(l.expiresAt.getTime())}${l.released ? ' released' : ''}`).join('; ')}`,
  );
  for (const id of input.ids.slice(0, 5)) {
    lines.push(`=== ${id}`);
    const offerIds = [...ledger.offersShown.keys()].filter((offerId) => offerId.startsWith(`${id}~`));
    lines.push(
      `agents: holders ${JSON.stringify(ledger.holders.get(id) ?? [])}, replied ${ledger.replied.get(id) ?? '-'}, ` +
        `offers shown ${JSON.stringify(offerIds.map((o) => [o, ledger.offersShown.get(o), ledger.accepted.has(o) ? 'accepted' : '']))}, ` +
        `lost with a stream ${JSON.stringify(ledger.lostOffers.filter((o) => o.interactionId === id))}, ` +
        `held back now ${JSON.stringify([...ledger.heldBack.values()].filter((o) => o.interactionId === id))}, ` +
        `failed calls ${JSON.stringify(ledger.failures.filter((f) => f.includes(id)))}`,
    );
    const record = await stores.interactions.get(tenantId, id).catch((error: unknown) => String(error));
    lines.push(
      typeof record === 'object'
        ? `document: v${record.version} ${stateName(record.state)} agent ${record.agentId ?? '-'} offered ${record.offeredAgentId ?? '-'} offer expires ${at(record.offerExpiresAt)} offer v${record.offerVersion ?? '-'} passed by [${record.declinedBy.join(' ')}] updated ${at(record.updatedAt)}`
        : `document: ${record ?? 'none'}`,
    );
    const history = await db
      .collection<{
        _id: string;
        version: number;
        state: number;
        previousState: number;
        reason: number;
        agentId: string;
        occurredAt: number;
        actor?: { kind: number; id: string };
        unpublishedAt?: number;
      }>('router_interaction_history')
      .find({ tenantId, interactionId: id })
      .sort({ version: 1 })
      .toArray()
      .catch(() => []);
    for (const entry of history)
      lines.push(
        `  v${entry.version} ${stateName(entry.previousState)}→${stateName(entry.state)} (${reasonName(entry.reason)}) at ${at(entry.occurredAt)} agent ${entry.agentId || '-'} actor ${entry.actor?.kind ?? '-'}:${entry.actor?.id ?? ''}${entry.unpublishedAt !== undefined ? ` UNPUBLISHED since ${at(entry.unpublishedAt)}` : ''}`,
      );
    const key = `${tenantId}/${id}`;
    const [waiting, offer] = await Promise.all([
      stores.waiting.get(key).catch(() => undefined),
      stores.offers.get(key).catch(() => undefined),
    ]);
    lines.push(
      `waiting index: ${waiting ? `v${waiting.version} queued ${at(waiting.queuedAt)}` : 'none'}; offer index: ${offer ? `v${offer.version} ${offer.agentId} expires ${at(offer.expiresAt)}` : 'none'}; slots: ${
        slots
          .filter((slot) => slot.document.interactionId === id)
          .map((slot) => `${slot.key.slice(tenantId.length + 1)} ${slot.document.kind} at ${at(slot.document.at)}`)
          .join(', ') || 'none'
      }`,
    );
    for (const log of input.logs) {
      const named = log.output.filter((line) => line.includes(id));
      lines.push(`${log.label} log lines naming it (${named.length}):`, ...named.slice(-20).map((line) => `  ${line}`));
    }
  }
  if (input.ids.length > 5) lines.push(`(and ${input.ids.length - 5} more: ${input.ids.slice(5, 50).join(', ')})`);
  return lines.join('\n');
}

/**
 * Keeps each process's whole output in `dir` (one `<label>.log` each) and returns the paths; the
 * failure message carries only the lines that matter, the files the rest.
 */
export function keepProcessLogs(dir: string, logs: readonly ProcessLog[]): string[] {
  mkdirSync(dir, { recursive: true });
  return logs.map((log) => {
    const file = path.join(dir, `${log.label}.log`);
    writeFileSync(file, `${log.output.join('\n')}\n`);
    return file;
  });
}

const warningLevels = new Set<unknown>(['warn', 'error', 'fatal', 40, 50, 60]);

/**
 * A process's warnings and errors and its gRPC calls answered other than OK (JSON log lines), the
 * last `limit`; kafkajs' per-request answers (a rebalance repeats one per heartbeat) are left out.
 */
export function warningsOf(output: readonly string[], limit = 30): string[] {
  return output
    .filter((line) => {
      try {
        const entry = JSON.parse(line) as { level?: unknown; grpc?: { code?: string }; kafka?: { namespace?: string } };
        if (entry.kafka?.namespace === 'Connection') return false;
        return warningLevels.has(entry.level) || (entry.grpc?.code !== undefined && entry.grpc.code !== 'OK');
      } catch {
        return false;
      }
    })
    .slice(-limit);
}
