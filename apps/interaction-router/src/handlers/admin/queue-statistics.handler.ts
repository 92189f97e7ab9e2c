import type { Queue, QueueStatistics } from '@mailroute/contracts';
import { NotFoundError, ValidationError, type TenantCallContext } from '@mailroute/platform';
import { loadQueueStatistics } from '../../routing/queue-statistics';
import type { AdminContext, AdminHandlers } from './admin-context';

/** GetQueueStatistics and ListQueueStatistics over a window (default 1 h, 1 min–7 d). */
export function createQueueStatisticsHandlers(
  admin: AdminContext,
): Pick<AdminHandlers, 'getQueueStatistics' | 'listQueueStatistics'> {
  const { core, stores } = admin;
  const { get, list } = admin.resources;

  async function statistics(context: TenantCallContext, queueId: string, windowMs: number): Promise<QueueStatistics> {
    const [result] = await loadQueueStatistics({ core, stores }, context.tenantId, [queueId], windowMs);
    if (!result) throw new NotFoundError('queue', queueId);
    return result;
  }

  const windowOf = (window: { seconds: number; nanos: number } | undefined): number => {
    const ms = window ? window.seconds * 1000 + Math.round(window.nanos / 1e6) : 3_600_000;
    if (ms < 60_000 || ms > 7 * 86_400_000) throw new ValidationError('window', 'must be between 1m and 7d');
    return ms;
  };

  return {
    getQueueStatistics: async (request, context) => {
      await get(context, 'queue', request.queueId);
      return { statistics: await statistics(context, request.queueId, windowOf(request.window)) };
    },
    listQueueStatistics: async (request, context) => {
      const windowMs = windowOf(request.window);
      const page = await list(context, 'queue', request.page);
      const out: QueueStatistics[] = [];
      for (const queue of page.items as Queue[]) out.push(await statistics(context, queue.queueId, windowMs));
      return { statistics: out, nextPageToken: page.nextPageToken };
    },
  };
}
