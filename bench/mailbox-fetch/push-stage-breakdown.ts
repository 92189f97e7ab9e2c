// Per-stage breakdown of push latency (delivery → InboundEmail consumed) for the push-intake bench. Each e-mail's
// path is put together from three clocks on this host: the bench (delivery call, event consumed), the graph sandbox's
// delivery log (notification POST sent, subscriber's answer) and mailbox-fetch's debug line per woken round
// ('mailbox-fetch: woken round timing': notification received, owner woken, turn started, first delta page,
// InboundEmail published), matched to the e-mail by its interaction id. Stage times are differences of the
// running maximum of those instants, so they add up to the e-mail's latency; a stage another one overlapped
// (e.g. a notification coalesced into a round already woken) counts 0.
import type { DeliveryRecord, SubscriptionAdminView } from '@mailroute/graph-sandbox';
import { percentile } from './intake-bench-support';

const stageNames = [
  'sandbox: delivery → notification POST sent',
  'endpoint: POST sent → answered (202)',
  'intake: 202 → notification accepted',
  'wake: accepted → owner woken (debounce, wake-up event)',
  'runtime: woken → turn started (concurrency bound)',
  'turn: started → first delta page (cursor read, Graph delta)',
  'turn: delta page → messages read (inbound record lookups, Graph message)',
  'turn: messages read → records stored (post-processing work, inbound record)',
  'turn: records stored → InboundEmail published (Kafka produce)',
  'Kafka: published → consumed by the bench',
] as const;

interface RoundTiming {
  notifiedAt: number;
  wokenAt: number;
  turnStartedAt: number;
  firstPageAt?: number;
  fetchedAt?: number;
  storedAt?: number;
  publishedAt: number;
  interactionIds: string[];
}

export interface EmailPath {
  mailbox: string;
  deliveredAt: number;
  consumedAt: number;
  interactionId: string;
}

export interface StageBreakdown {
  /** E-mails whose whole path was found (sandbox delivery log and a round timing line). */
  matched: number;
  total: number;
  stages: { name: string; p50: number; p99: number; mean: number; share: number; tailMean: number }[];
  /** The stage with the largest share of the mean latency, and the largest in the slowest tenth. */
  dominant: string;
  dominantInTail: string;
}

/** Round timing lines from mailbox-fetch's output (JSON log lines at debug level). */
function roundTimings(output: readonly string[]): Map<string, RoundTiming> {
  const byInteraction = new Map<string, RoundTiming>();
  for (const line of output) {
    if (!line.includes('woken round timing')) continue;
    try {
      const entry = JSON.parse(line) as RoundTiming;
      for (const id of entry.interactionIds ?? []) if (!byInteraction.has(id)) byInteraction.set(id, entry);
    } catch {
      // a line cut between two output chunks
    }
  }
  return byInteraction;
}

/** The address a subscription watches, from its resource (`/users/{address}/mailFolders('…')/messages`). */
function watchedAddress(subscription: SubscriptionAdminView): string {
  return (/^\/?users\/([^/]+)\//i.exec(subscription.resource)?.[1] ?? '').toLowerCase();
}

export function stageBreakdown(
  emails: readonly EmailPath[],
  deliveries: readonly DeliveryRecord[],
  subscriptions: readonly SubscriptionAdminView[],
  output: readonly string[],
): StageBreakdown {
  const rounds = roundTimings(output);
  const subscriptionOf = new Map(subscriptions.map((subscription) => [watchedAddress(subscription), subscription.id]));
  const posts = new Map<string, DeliveryRecord[]>();
  for (const record of deliveries) {
    if (record.kind !== 'change' || record.outcome === 'dropped') continue;
    const list = posts.get(record.subscriptionId) ?? [];
    list.push(record);
    posts.set(record.subscriptionId, list);
  }
  for (const list of posts.values()) list.sort((a, b) => a.sentAtMs - b.sentAtMs);

  const perEmail: number[][] = [];
  for (const email of emails) {
    const round = rounds.get(email.interactionId);
    const post = (posts.get(subscriptionOf.get(email.mailbox.toLowerCase()) ?? '') ?? []).find(
      (record) => record.sentAtMs >= email.deliveredAt,
    );
    if (!round || !post) continue;
    const instants = [
      email.deliveredAt,
      post.sentAtMs,
      post.atMs,
      round.notifiedAt,
      round.wokenAt,
      round.turnStartedAt,
      round.firstPageAt ?? round.turnStartedAt,
      round.fetchedAt ?? round.publishedAt,
      round.storedAt ?? round.publishedAt,
      round.publishedAt,
      email.consumedAt,
    ];
    const stages: number[] = [];
    let at = email.deliveredAt;
    for (const instant of instants.slice(1)) {
      const next = Math.max(at, instant);
      stages.push(next - at);
      at = next;
    }
    perEmail.push(stages);
  }
  const totals = perEmail.map((stages) => stages.reduce((sum, ms) => sum + ms, 0));
  const meanTotal = totals.reduce((sum, ms) => sum + ms, 0) / Math.max(1, totals.length);
  const tailCut = [...totals].sort((a, b) => a - b)[Math.floor(totals.length * 0.9)] ?? 0;
  const tail = perEmail.filter((_, index) => (totals[index] ?? 0) >= tailCut);
  const mean = (values: number[]) => values.reduce((sum, ms) => sum + ms, 0) / Math.max(1, values.length);
  const stages = stageNames.map((name, index) => {
    const values = perEmail.map((stagesOf) => stagesOf[index] ?? 0).sort((a, b) => a - b);
    const stageMean = mean(values);
    return {
      name,
      p50: percentile(values, 50),
      p99: percentile(values, 99),
      mean: stageMean,
      share: meanTotal > 0 ? stageMean / meanTotal : 0,
      tailMean: mean(tail.map((stagesOf) => stagesOf[index] ?? 0)),
    };
  });
  const top = (key: 'mean' | 'tailMean') => [...stages].sort((a, b) => b[key] - a[key])[0]?.name ?? 'none';
  return {
    matched: perEmail.length,
    total: emails.length,
    stages,
    dominant: top('mean'),
    dominantInTail: top('tailMean'),
  };
}

export function printBreakdown(label: string, breakdown: StageBreakdown): void {
  console.log(
    `\n${label}: per stage (ms; ${breakdown.matched}/${breakdown.total} e-mails traced end to end; tail = the slowest tenth)`,
  );
  console.log(
    `${'stage'.padEnd(80)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'mean'.padStart(7)} ${'share'.padStart(6)} ${'tail mean'.padStart(10)}`,
  );
  for (const stage of breakdown.stages)
    console.log(
      [
        stage.name.padEnd(80),
        stage.p50.toFixed(0).padStart(7),
        stage.p99.toFixed(0).padStart(7),
        stage.mean.toFixed(0).padStart(7),
        `${(stage.share * 100).toFixed(0)}%`.padStart(6),
        stage.tailMean.toFixed(0).padStart(10),
      ].join(' '),
    );
  console.log(`dominant stage: ${breakdown.dominant}; in the tail: ${breakdown.dominantInTail}`);
}
