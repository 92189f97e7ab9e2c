import { Queue, UpdateQueueResponse } from '@mailroute/contracts';
import { flag, str, type Command } from '../command';
import { UsageError } from '../errors';
import { formatDuration } from '../format';
import { parseDuration, parseInteger } from '../values';

/** `queue alerts`: a queue's alert thresholds (AlertEvents on mailroute.alert.v1 when crossed and when recovered). */
export const queueAlertCommands: Command[] = [
  {
    path: ['queue', 'alerts'],
    summary: "set a queue's alert thresholds: an alert event when it is crossed and another when the queue recovers",
    args: ['<queue-id>'],
    options: {
      'waiting-count': { type: 'string', value: '<n>', description: 'alert when this many interactions wait (0 = off)' },
      'longest-wait': {
        type: 'string',
        value: '<duration>',
        description: 'alert when one has waited this long, e.g. 30m (1m-30d)',
      },
      off: { type: 'boolean', description: 'remove both thresholds' },
    },
    async run(context) {
      const { values } = context;
      const count = str(values, 'waiting-count');
      const wait = str(values, 'longest-wait');
      if (flag(values, 'off') && (count !== undefined || wait !== undefined))
        throw new UsageError('--off removes the thresholds: give it alone');
      if (!flag(values, 'off') && count === undefined && wait === undefined)
        throw new UsageError('give --waiting-count, --longest-wait or --off');
      const alertThresholds = flag(values, 'off')
        ? undefined
        : {
            waitingCount: count === undefined ? 0 : parseInteger(count, '--waiting-count', 0, 1_000_000),
            longestWait: wait === undefined ? undefined : parseDuration(wait, '--longest-wait'),
          };
      const response = await context.clients.router().updateQueue({
        queueId: context.positionals[0] ?? '',
        queue: Queue.fromPartial({ alertThresholds }),
        updateMask: ['alert_thresholds'],
        etag: '',
      });
      const t = response.queue?.alertThresholds;
      const parts = [
        t?.waitingCount ? `${t.waitingCount} waiting` : '',
        t?.longestWait ? `longest wait ${formatDuration(t.longestWait)}` : '',
      ].filter(Boolean);
      context.print(UpdateQueueResponse.toJSON(response), () =>
        parts.length
          ? `queue ${response.queue?.queueId ?? ''}: alerts at ${parts.join(' or ')} (resolved at 80 %)`
          : `queue ${response.queue?.queueId ?? ''}: no alert thresholds`,
      );
    },
  },
];
