import { Metadata } from 'nice-grpc';
import {
  InteractionRouterServiceDefinition,
  MailboxFetchServiceDefinition,
  MailboxSyncState,
  type QueueStatistics,
} from '@mailroute/contracts';
import { createGrpcClient } from '@mailroute/platform';
import type { DemoCounters } from './demo';
import type { HostTenant, RunningHost } from './host';

/** One sample of what the terminal shows, per tenant. */
export interface ProgressSample {
  tenantId: string;
  fetched: number;
  mailboxErrors: string[];
  queues: {
    queueId: string;
    waiting: number;
    offered: number;
    assigned: number;
    longestWaitSeconds: number;
    serviceLevelPercent: number | undefined;
  }[];
}

/** Reads the tenant's figures through the public APIs (sync statuses, queue statistics). */
async function sampleProgress(host: RunningHost, tenant: HostTenant): Promise<ProgressSample> {
  const options = { metadata: Metadata({ authorization: `Bearer ${tenant.apiKey}` }) };
  const fetch = createGrpcClient(MailboxFetchServiceDefinition, host.addresses['mailbox-fetch'], {
    deadlineMs: 5_000,
    credentials: host.grpcCredentials,
  });
  const router = createGrpcClient(InteractionRouterServiceDefinition, host.addresses['interaction-router'], {
    deadlineMs: 5_000,
    credentials: host.grpcCredentials,
  });
  try {
    const [statuses, statistics] = await Promise.all([
      fetch.client.listSyncStatuses(
        { page: { pageSize: 200, pageToken: '' }, state: MailboxSyncState.MAILBOX_SYNC_STATE_UNSPECIFIED },
        options,
      ),
      router.client.listQueueStatistics({ page: { pageSize: 200, pageToken: '' } }, options),
    ]);
    const failing = new Set([
      MailboxSyncState.MAILBOX_SYNC_STATE_AUTH_FAILED,
      MailboxSyncState.MAILBOX_SYNC_STATE_ACCESS_DENIED,
      MailboxSyncState.MAILBOX_SYNC_STATE_NOT_FOUND,
      MailboxSyncState.MAILBOX_SYNC_STATE_ERROR,
    ]);
    return {
      tenantId: tenant.config.id,
      fetched: statuses.statuses.reduce((sum, status) => sum + status.messagesIngestedTotal, 0),
      mailboxErrors: statuses.statuses
        .filter((status) => failing.has(status.state))
        .map((status) => `${status.mailboxId}: ${MailboxSyncState[status.state].replace('MAILBOX_SYNC_STATE_', '')}`),
      queues: statistics.statistics.map((queue: QueueStatistics) => ({
        queueId: queue.queueId,
        waiting: queue.waiting,
        offered: queue.offered,
        assigned: queue.assigned,
        longestWaitSeconds: Number(queue.longestWait?.seconds ?? 0),
        serviceLevelPercent: queue.serviceLevel?.interactionsCounted ? queue.serviceLevel.achievedPercent : undefined,
      })),
    };
  } finally {
    fetch.close();
    router.close();
  }
}

/** One terminal line per tenant: fetched, per-queue waiting/assigned/longest wait/service level, and the demo agents' work. */
function formatProgress(sample: ProgressSample, demo: DemoCounters | undefined): string {
  const queues = sample.queues
    .map((queue) => {
      const level = queue.serviceLevelPercent === undefined ? '' : ` SL ${queue.serviceLevelPercent.toFixed(0)}%`;
      return `${queue.queueId}: ${queue.waiting} waiting${queue.offered ? ` ${queue.offered} offered` : ''} ${queue.assigned} assigned${queue.longestWaitSeconds ? ` longest ${queue.longestWaitSeconds}s` : ''}${level}`;
    })
    .join(' | ');
  const agents = demo
    ? ` | demo: ${demo.delivered} delivered, ${demo.accepted} accepted, ${demo.replied} replied, ${demo.sent} sent${demo.failedSends ? `, ${demo.failedSends} send failures` : ''}`
    : '';
  const errors = sample.mailboxErrors.length ? ` | mailbox errors: ${sample.mailboxErrors.join(', ')}` : '';
  return `[${sample.tenantId}] fetched ${sample.fetched} | ${queues || 'no queues'}${agents}${errors}`;
}

/**
 * Shows live progress instead of a log flood: on a terminal one line per tenant rewritten in place
 * every second; otherwise (piped, CI) a line per tenant when something changed, at most every 5 s.
 */
export function startProgress(
  host: RunningHost,
  demo: DemoCounters | undefined,
  output: NodeJS.WriteStream = process.stdout,
): { stop(): void } {
  let stopped = false;
  let last = '';
  let lastPrinted = 0;
  let linesShown = 0;
  const tick = async () => {
    if (stopped) return;
    const lines: string[] = [];
    for (const tenant of host.tenants) {
      try {
        lines.push(formatProgress(await sampleProgress(host, tenant), tenant.demo ? demo : undefined));
      } catch (error) {
        lines.push(`[${tenant.config.id}] (figures unavailable: ${(error as Error).message})`);
      }
    }
    if (stopped) return;
    const text = lines.join('\n');
    if (output.isTTY) {
      if (linesShown > 0) output.write(`\x1b[${linesShown}A`);
      output.write(lines.map((line) => `\x1b[2K${line.slice(0, (output.columns || 200) - 1)}`).join('\n') + '\n');
      linesShown = lines.length;
    } else if (text !== last && Date.now() - lastPrinted >= 5_000) {
      output.write(`${text}\n`);
      last = text;
      lastPrinted = Date.now();
    }
    timer = setTimeout(() => void tick(), 2_000);
  };
  let timer = setTimeout(() => void tick(), 500);
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
