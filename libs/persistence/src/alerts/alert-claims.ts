import type { DocumentTable } from '../ports/document-table';

/** Whether an alert's condition holds (firing) or ended (resolved). */
export type AlertPhase = 'firing' | 'resolved';

/**
 * One row of an alert table. Four kinds of rows share it, told apart by their keys:
 * - a **claim** (the alert's key, e.g. `<tenant>/<subject>/<kind>[/<episode>/<phase>]`): inserted
 *   once by whichever replica raised the alert, `publishedAt` set once its event is on the bus;
 * - a **head** (`<tenant>/<subject>/<kind>` of an alert with episodes): the latest episode, a hint
 *   that survives pruning;
 * - a **pending marker** (`~pending/<raisedAt>/<claim key>`): a claim not yet published, read by
 *   time so a relay never scans the claims;
 * - a **prune marker** (`~prune/<due>/<claim key>`): when a published claim may be deleted;
 * - a **firing marker** (`~firing/<subject key>`): a condition whose latest published episode is
 *   firing, so a producer finds what it must resolve without reading every subject.
 */
export interface AlertRow<P extends object> {
  raisedAt: number;
  publishedAt?: number | undefined;
  /** What the producer publishes (claims and pending markers). */
  payload: P;
  /** Markers: the claim they stand for. */
  claimKey?: string | undefined;
  /** Heads: the subject's latest episode number. */
  episode?: number | undefined;
  /** Claims and heads of alerts with episodes: the phase the claim (or the latest episode) is in. */
  phase?: AlertPhase | undefined;
}

/** A published alert: its claim key (the event id) and what it carried. */
export interface PublishedAlert<P extends object> {
  key: string;
  raisedAt: number;
  payload: P;
  phase?: AlertPhase | undefined;
}

export interface AlertClaimsOptions<P extends object> {
  table: DocumentTable<AlertRow<P>>;
  clock: () => number;
  /** Puts the alert's event on the bus; the claim key is its event id. */
  publish: (alert: PublishedAlert<P>) => Promise<void>;
  /**
   * A claim unpublished this long after it was raised is published by `relay` (its raiser died, or
   * the bus failed); younger ones may still be in flight on the replica that raised them.
   */
  relayAfterMs: number;
  /** Published claims are deleted this long after publication (see `prune`). */
  retentionMs: number;
  /**
   * One-shot claims (`raiseOnce`): whether the claim may be deleted now, i.e. its subject can no
   * longer raise it again (e.g. the interaction was answered). Not asked for episode claims: a
   * resolved episode may always go. Default: always.
   */
  mayForget?: ((key: string, row: AlertRow<P>) => Promise<boolean>) | undefined;
}

const pendingPrefix = '~pending/';
const prunePrefix = '~prune/';
const firingPrefix = '~firing/';
const at = (ms: number): string => String(Math.max(0, Math.floor(ms))).padStart(15, '0');
const pendingKey = (raisedAt: number, claimKey: string): string => `${pendingPrefix}${at(raisedAt)}/${claimKey}`;
const pruneKey = (due: number, claimKey: string): string => `${prunePrefix}${at(due)}/${claimKey}`;
const episodeKey = (subjectKey: string, episode: number, phase: AlertPhase): string =>
  `${subjectKey}/${String(episode).padStart(8, '0')}/${phase}`;

/**
 * Alerts raised once across replicas and restarts, in one DocumentTable (no index beyond the key).
 *
 * Raising writes a pending marker, then claims the alert's key with an atomic insert (exactly one
 * replica wins; a loser drops its marker), publishes, records `publishedAt` and swaps the pending
 * marker for a prune marker. Every background read is a key-range read of what is due: `relay`
 * reads pending markers older than `relayAfterMs`, `prune` reads prune markers past their time.
 * A crash anywhere in between leaves a marker that the next relay or prune finishes; an event
 * published twice in such a window carries the same event id (consumers dedupe on it).
 *
 * Two shapes of alert: `raiseOnce(key)` for alerts raised once per subject (an interaction's SLA
 * breach), and `settle(subjectKey, …)` for conditions that fire and resolve repeatedly (a queue
 * over its threshold): each crossing is a numbered episode with a `firing` and a `resolved` claim.
 */
export function createAlertClaims<P extends object>(options: AlertClaimsOptions<P>) {
  const { table, clock } = options;
  /** One-shot claims this replica knows exist (bounded: forgotten wholesale when full). */
  const known = new Set<string>();
  const remember = (claimKey: string) => {
    if (known.size >= 100_000) known.clear();
    known.add(claimKey);
  };

  async function publishClaim(claimKey: string, row: AlertRow<P>, markerKey: string): Promise<void> {
    await options.publish({ key: claimKey, raisedAt: row.raisedAt, payload: row.payload, phase: row.phase });
    const publishedAt = clock();
    await table.put(claimKey, { ...row, publishedAt });
    const forgettable = row.phase !== 'firing'; // a firing episode goes with its resolution
    if (forgettable) await table.put(pruneKey(publishedAt + options.retentionMs, claimKey), { ...row, claimKey });
    if (row.phase) await markFiring(claimKey, row, row.phase);
    await table.delete(markerKey);
  }

  /** Keeps `~firing/<subject>` in step with an episode claim just published. */
  async function markFiring(claimKey: string, row: AlertRow<P>, phase: AlertPhase): Promise<void> {
    const subjectKey = claimKey.slice(0, claimKey.length - phase.length - 10);
    const episode = Number(claimKey.slice(subjectKey.length + 1, subjectKey.length + 9));
    const marker = `${firingPrefix}${subjectKey}`;
    if (phase === 'firing') return table.put(marker, { ...row, claimKey, episode });
    // Only this episode's marker: a later episode may have fired meanwhile on another replica.
    const current = await table.get(marker);
    if (current && (current.episode ?? 0) <= episode) await table.delete(marker);
  }

  /** Claims `claimKey` and publishes it; false when it was claimed before (here or elsewhere). */
  async function claimAndPublish(claimKey: string, row: AlertRow<P>): Promise<boolean> {
    const marker = pendingKey(row.raisedAt, claimKey);
    await table.put(marker, { ...row, claimKey });
    if (!(await table.insert(claimKey, row))) {
      await table.delete(marker);
      return false;
    }
    await publishClaim(claimKey, row, marker);
    return true;
  }

  /** The subject's current episode and phase: its head, then any claims after it (the head may lag). */
  async function current(subjectKey: string): Promise<{ episode: number; phase: AlertPhase }> {
    const head = await table.get(subjectKey);
    let state = { episode: head?.episode ?? 0, phase: head?.phase ?? ('resolved' as AlertPhase) };
    const after = `${subjectKey}/${String(Math.max(0, state.episode - 1)).padStart(8, '0')}/~`;
    for (;;) {
      const rows = await table.list({ prefix: `${subjectKey}/`, after, limit: 100 });
      for (const { key } of rows) {
        const [episode, phase] = key.slice(subjectKey.length + 1).split('/');
        const number = Number(episode);
        if (!Number.isInteger(number) || (phase !== 'firing' && phase !== 'resolved')) continue;
        if (number > state.episode || (number === state.episode && phase === 'resolved')) state = { episode: number, phase };
      }
      if (rows.length < 100) return state;
    }
  }

  return {
    /**
     * Raises the one-shot alert `claimKey` with `payload` unless it was raised before: true when this
     * call published it.
     */
    async raiseOnce(claimKey: string, payload: P): Promise<boolean> {
      // A claim seen before costs nothing; one raised elsewhere costs a read, not three writes.
      if (known.has(claimKey) || (await table.get(claimKey))) {
        remember(claimKey);
        return false;
      }
      const raised = await claimAndPublish(claimKey, { raisedAt: clock(), payload });
      remember(claimKey);
      return raised;
    },

    /**
     * Moves the condition `subjectKey` to the phase `decide` picks from its current one, publishing
     * the change once across replicas: `firing` starts a new episode, `resolved` ends the current
     * one. Returns the phase published, or undefined when nothing changed (or another replica won).
     */
    async settle(
      subjectKey: string,
      decide: (phase: AlertPhase) => { phase: AlertPhase; payload: P } | undefined,
    ): Promise<AlertPhase | undefined> {
      const state = await current(subjectKey);
      const next = decide(state.phase);
      if (!next || next.phase === state.phase) return undefined;
      const episode = next.phase === 'firing' ? state.episode + 1 : state.episode;
      const row: AlertRow<P> = { raisedAt: clock(), payload: next.payload, phase: next.phase };
      if (!(await claimAndPublish(episodeKey(subjectKey, episode, next.phase), row))) return undefined;
      const head = await table.get(subjectKey);
      if ((head?.episode ?? 0) <= episode) await table.put(subjectKey, { ...row, episode });
      return next.phase;
    },

    /** Subjects whose latest published episode is firing, under `prefix` (e.g. `<tenant>/`), up to `limit`. */
    async firing(prefix: string, limit = 10_000): Promise<string[]> {
      const rows = await table.list({ prefix: `${firingPrefix}${prefix}`, limit });
      return rows.map(({ key }) => key.slice(firingPrefix.length));
    },

    /** The subject's current phase (`resolved` when it never fired). */
    async phaseOf(subjectKey: string): Promise<AlertPhase> {
      return (await current(subjectKey)).phase;
    },

    /** Publishes claims left unpublished for `relayAfterMs` (oldest first, up to `limit`); returns how many. */
    async relay(limit = 500): Promise<number> {
      const until = pendingKey(clock() - options.relayAfterMs, '\uffff');
      let published = 0;
      for (const { key: marker, document } of await table.list({ prefix: pendingPrefix, limit })) {
        if (marker > until) break;
        const claimKey = document.claimKey ?? '';
        let claim = await table.get(claimKey);
        if (!claim && (await table.insert(claimKey, stripMarker(document)))) claim = stripMarker(document);
        // Published already, or raised by someone else whose own marker will relay it.
        if (!claim || claim.publishedAt !== undefined || claim.raisedAt !== document.raisedAt) {
          await table.delete(marker);
          continue;
        }
        await publishClaim(claimKey, claim, marker);
        published += 1;
      }
      return published;
    },

    /**
     * Deletes published claims whose retention passed (up to `limit`): a resolved episode with its
     * firing claim, or a one-shot claim `mayForget` allows (otherwise it is looked at again after
     * another retention period). Returns how many claims were deleted.
     */
    async prune(limit = 500): Promise<number> {
      const until = pruneKey(clock(), '\uffff');
      let deleted = 0;
      for (const { key: marker, document } of await table.list({ prefix: prunePrefix, limit })) {
        if (marker > until) break;
        const claimKey = document.claimKey ?? '';
        if (document.phase === 'resolved') {
          const episodePrefix = claimKey.slice(0, claimKey.length - 'resolved'.length);
          // The head must know this episode before its claims go, or the episode count would restart.
          const subjectKey = episodePrefix.slice(0, episodePrefix.length - 10);
          const episode = Number(episodePrefix.slice(-9, -1));
          const head = await table.get(subjectKey);
          if ((head?.episode ?? 0) < episode || (head?.episode === episode && head.phase !== 'resolved'))
            await table.put(subjectKey, { ...stripMarker(document), episode, phase: 'resolved' });
          deleted += Number(await table.delete(`${episodePrefix}firing`)) + Number(await table.delete(claimKey));
        } else if (!options.mayForget || (await options.mayForget(claimKey, stripMarker(document)))) {
          deleted += Number(await table.delete(claimKey));
          known.delete(claimKey);
        } else {
          await table.put(pruneKey(clock() + options.retentionMs, claimKey), document);
        }
        await table.delete(marker);
      }
      return deleted;
    },
  };
}

function stripMarker<P extends object>(row: AlertRow<P>): AlertRow<P> {
  const { claimKey: _claimKey, publishedAt: _publishedAt, ...claim } = row;
  return claim;
}

/** What createAlertClaims returns. */
export type AlertClaims<P extends object> = ReturnType<typeof createAlertClaims<P>>;
