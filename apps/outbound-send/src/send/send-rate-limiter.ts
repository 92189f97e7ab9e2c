import { defaultOutboundSendOptions } from '../outbound-send-defaults';

/** Options of createSendRateLimiter. */
export interface SendRateLimiterOptions {
  /** Messages per mailbox per window. Default 30 (Exchange Online: 30 messages per minute per mailbox). */
  perWindow?: number;
  /** Window length. Default 60 s. */
  windowMs?: number;
}

/**
 * A per-mailbox sliding-window send rate limit, so a runaway automation cannot get the tenant's
 * mailbox blocked by Exchange. In-process: the outbound-request topic is keyed by mailbox, so one
 * consumer (one replica) sends a mailbox's messages.
 */
export interface SendRateLimiter {
  /** Takes a slot now and returns 0, or returns how long until one frees up (taking nothing). */
  tryTake(mailboxKey: string, nowMs: number): number;
}

export function createSendRateLimiter(options: SendRateLimiterOptions = {}): SendRateLimiter {
  const perWindow = options.perWindow ?? defaultOutboundSendOptions.sendRatePerWindow;
  const windowMs = options.windowMs ?? defaultOutboundSendOptions.sendRateWindowMs;
  if (!Number.isInteger(perWindow) || perWindow < 1) throw new RangeError('perWindow must be a positive integer');
  if (!Number.isInteger(windowMs) || windowMs < 1) throw new RangeError('windowMs must be a positive integer');
  const sent = new Map<string, number[]>();
  return {
    tryTake(mailboxKey, nowMs) {
      const times = (sent.get(mailboxKey) ?? []).filter((at) => at > nowMs - windowMs);
      if (times.length >= perWindow) {
        sent.set(mailboxKey, times);
        return (times[0] as number) + windowMs - nowMs;
      }
      times.push(nowMs);
      sent.set(mailboxKey, times);
      return 0;
    },
  };
}
