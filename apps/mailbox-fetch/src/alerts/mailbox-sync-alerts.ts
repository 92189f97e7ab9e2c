import { AlertKind, MailboxSyncState } from '@mailroute/contracts';
import type { AlertPayload, AlertToPublish } from '@mailroute/messaging';
import { createAlertClaims, type AlertPhase } from '@mailroute/persistence';
import type { MailboxStatusRecord } from '../store/mailbox-fetch.records';
import type { MailboxFetchStores } from '../store/mailbox-fetch.stores';

/** States a mailbox stays in until a person acts (permissions, address, credentials): stopped at once. */
const failingStates = new Set<number>([
  MailboxSyncState.MAILBOX_SYNC_STATE_AUTH_FAILED,
  MailboxSyncState.MAILBOX_SYNC_STATE_ACCESS_DENIED,
  MailboxSyncState.MAILBOX_SYNC_STATE_NOT_FOUND,
  MailboxSyncState.MAILBOX_SYNC_STATE_ERROR,
]);

/** A resolved alert needs the mailbox back within this fraction of the threshold (a fresh sync), so it cannot flap. */
const clearFraction = 0.8;

export interface MailboxSyncAlertOptions {
  /** A mailbox whose last successful sync is older than this is stopped, ms. */
  stoppedAfterMs: number;
  /** A claim unpublished this long is published by a later sweep, ms. */
  relayAfterMs: number;
  /** Resolved episodes are deleted this long after publication, ms. */
  retentionMs: number;
}

/** One mailbox's figure as the last sweep saw it: seconds since its last successful sync (or creation). */
export interface MailboxSyncFigure {
  tenantId: string;
  mailboxId: string;
  secondsSinceSync: number;
  stopped: boolean;
}

/**
 * The mailbox-stopped-syncing alert (ALERT_KIND_MAILBOX_SYNC_STOPPED): every replica sweeps every
 * enabled mailbox's stored sync status, so a mailbox nobody owns any more (its owner died and no
 * replica took it) is seen too. A mailbox fires when its last successful sync (or its creation) is
 * `stoppedAfterMs` old or it is in a state that needs a person (auth failed, access denied, not
 * found, error); it resolves once it synced again within 80 % of that and left the failing state,
 * or was disabled or deleted. One event per episode and phase across replicas (createAlertClaims:
 * episode claims in `mf_alerts`); `<tenant>/<mailbox>/mailbox-sync-stopped` is the subject.
 *
 * Reads per sweep: the mailboxes and the statuses tables as `_id` ranges (500 a page), plus the
 * claims of mailboxes that are stopped or firing.
 */
export function createMailboxSyncAlertSweep(deps: {
  stores: Pick<MailboxFetchStores, 'mailboxes' | 'statuses' | 'alerts'>;
  clock: () => number;
  publish: (alert: AlertToPublish) => Promise<void>;
  options: MailboxSyncAlertOptions;
}) {
  const { stores, options } = deps;
  const claims = createAlertClaims<AlertPayload>({
    table: stores.alerts,
    clock: deps.clock,
    publish: deps.publish,
    relayAfterMs: options.relayAfterMs,
    retentionMs: options.retentionMs,
  });
  let figures: MailboxSyncFigure[] = [];
  let sweeping: Promise<number> | undefined;

  async function readAll<T extends object>(table: {
    list: (o: { prefix: string; after?: string; limit: number }) => Promise<{ key: string; document: T }[]>;
  }) {
    const out = new Map<string, T>();
    for (let after: string | undefined; ;) {
      const page = await table.list({ prefix: '', ...(after ? { after } : {}), limit: 500 });
      for (const { key, document } of page) out.set(key, document);
      if (page.length < 500) return out;
      after = page[page.length - 1]?.key;
    }
  }

  async function sweepPass(): Promise<number> {
    let published = await claims.relay();
    const firing = new Set(await claims.firing(''));
    const [mailboxes, statuses] = await Promise.all([readAll(stores.mailboxes), readAll<MailboxStatusRecord>(stores.statuses)]);
    const now = deps.clock();
    const seen: MailboxSyncFigure[] = [];
    const subjects = new Set([...firing].map((key) => key.slice(0, -'/mailbox-sync-stopped'.length)));
    for (const [key, mailbox] of mailboxes) if (mailbox.enabled) subjects.add(key);
    for (const key of subjects) {
      const mailbox = mailboxes.get(key);
      const status = statuses.get(key);
      const [tenantId = '', mailboxId = ''] = key.split('/');
      const sinceMs = mailbox ? now - (status?.lastSuccessfulSyncAt ?? mailbox.createdAt) : 0;
      const failing = status !== undefined && failingStates.has(status.state);
      const active = mailbox?.enabled === true;
      const stopped = active && (failing || sinceMs >= options.stoppedAfterMs);
      if (active) seen.push({ tenantId, mailboxId, secondsSinceSync: Math.max(0, sinceMs) / 1000, stopped });
      const subject = `${key}/mailbox-sync-stopped`;
      if (!stopped && !firing.has(subject)) continue;
      const recovered = !active || (!failing && sinceMs <= options.stoppedAfterMs * clearFraction);
      const detail = failing ? (MailboxSyncState[status.state] ?? '') : stopped ? 'no successful sync' : '';
      const changed = await claims.settle(subject, (phase: AlertPhase) => {
        const next: AlertPhase | undefined =
          phase === 'resolved' ? (stopped ? 'firing' : undefined) : recovered ? 'resolved' : undefined;
        return (
          next && {
            phase: next,
            payload: {
              kind: AlertKind.ALERT_KIND_MAILBOX_SYNC_STOPPED,
              tenantId,
              mailboxId,
              value: Math.max(0, sinceMs) / 1000,
              threshold: options.stoppedAfterMs / 1000,
              detail,
            },
          }
        );
      });
      if (changed) published += 1;
    }
    figures = seen;
    await claims.prune();
    return published;
  }

  return {
    /** One pass at a time per replica; returns how many alerts it published. */
    sweep(): Promise<number> {
      sweeping ??= sweepPass().finally(() => (sweeping = undefined));
      return sweeping;
    },
    /** Every enabled mailbox as the last sweep saw it (the stopped-syncing gauges). */
    figures: (): readonly MailboxSyncFigure[] => figures,
  };
}
