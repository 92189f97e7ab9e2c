/** Milliseconds since the epoch. Injected so tests can move time (token and secret expiry, throttling windows). */
export type Clock = () => number;

/** The wall clock. */
export const systemClock: Clock = () => Date.now();

/** An ISO-8601 UTC timestamp without fractional seconds, as Graph writes `receivedDateTime`. */
export function toGraphDateTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
