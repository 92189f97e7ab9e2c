/**
 * The fix for kafkajs 2.2.4's idle request-queue loop, applied once when the Kafka adapter loads.
 *
 * kafkajs' RequestQueue (src/network/requestQueue) ends every `checkPendingRequests` by scheduling
 * the next one at `throttledUntil - Date.now()`. `throttledUntil` is -1 until a broker throttles the
 * client, so with nothing pending that delay is about minus the epoch: Node clamps it to 1 ms, and
 * Node 24 reports each such call as a `TimeoutNegativeWarning`. The timer then calls
 * `checkPendingRequests` again, so every broker connection polls an empty queue every millisecond
 * for as long as it is open (kafkajs#1751, #1704; the fix below is the one proposed upstream in
 * kafkajs#1768's review, unreleased: kafkajs has had no release since 2.2.4).
 *
 * Fixed: with nothing pending and no throttle there is nothing to check, so nothing is scheduled
 * (a request pushed later is sent at once, or schedules its own check); otherwise the original
 * behaviour — wait out the throttle, or re-check pending requests after kafkajs' 10 ms interval.
 * Only the version this was written against is patched; any other is left alone (the spec fails
 * then, so the fix is looked at again rather than applied blindly).
 */

interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** The kafkajs version whose RequestQueue this fixes. */
const fixedVersion = '2.2.4';
/** kafkajs' CHECK_PENDING_REQUESTS_INTERVAL (ms). */
const checkPendingRequestsIntervalMs = 10;

/** True when kafkajs' request queue carries the fix (applied now or before). */
export function fixKafkajsRequestQueue(): boolean {
  // kafkajs has no exports map: its internals load like its own files load them (the same module instance).
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== fixedVersion) return false;
  const RequestQueueClass = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueue & { idleLoopFixed?: true } };
  const prototype = RequestQueueClass.prototype;
  if (prototype.idleLoopFixed) return true;
  prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueue): void {
    if (this.throttleCheckTimeoutId) return;
    const untilUnthrottled = this.throttledUntil - Date.now();
    if (this.pending.length === 0 && untilUnthrottled <= 0) return;
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      untilUnthrottled > 0 ? untilUnthrottled : checkPendingRequestsIntervalMs,
    );
  };
  prototype.idleLoopFixed = true;
  return true;
}
