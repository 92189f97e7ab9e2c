/**
 * Coalesces concurrent calls per key: while a call for `key` is in flight, later callers get the
 * same promise instead of starting another.
 */
export interface SingleFlight<T> {
  run(key: string, operation: () => Promise<T>): Promise<T>;
  /** Whether a call for `key` is in flight. */
  has(key: string): boolean;
}

export function createSingleFlight<T>(): SingleFlight<T> {
  const flights = new Map<string, Promise<T>>();
  return {
    run(key, operation) {
      const existing = flights.get(key);
      if (existing) return existing;
      const flight = operation().finally(() => flights.delete(key));
      flights.set(key, flight);
      return flight;
    },
    has: (key) => flights.has(key),
  };
}
