import { AsyncLocalStorage } from 'node:async_hooks';

/** What a store operation does to the data: the four kinds the round-trip figures are broken down by. */
export type StoreOperationKind = 'read' | 'insert' | 'update' | 'delete';

const storeOperationKinds: readonly StoreOperationKind[] = ['read', 'insert', 'update', 'delete'];

/** The step a store operation belongs to when nothing named one. */
const unnamedStoreStep = 'other';

const steps = new AsyncLocalStorage<string>();

/**
 * Runs `work` as step `step` (intake, plan, offer, accept, …): the store operations it starts,
 * awaited or not, are counted under that step by every StoreOperationCounter. An inner step wins.
 */
export function withStoreStep<R>(step: string, work: () => R): R {
  return steps.run(step, work);
}

/** The step named by the innermost `withStoreStep` around the caller, or `other`. */
function currentStoreStep(): string {
  return steps.getStore() ?? unnamedStoreStep;
}

/** Counts of one step (or of all of them): per kind and in total. */
export type StoreOperationCounts = Record<StoreOperationKind, number> & { total: number };

const emptyCounts = (): StoreOperationCounts => ({ read: 0, insert: 0, update: 0, delete: 0, total: 0 });

/**
 * Store operations counted by kind and by step (see `withStoreStep`). The counting wrappers
 * (`countingPort`, `MongoStore`'s `operations` option) feed it; benchmarks read it.
 */
export class StoreOperationCounter {
  private readonly steps = new Map<string, StoreOperationCounts>();

  record(kind: StoreOperationKind): void {
    const step = currentStoreStep();
    let counts = this.steps.get(step);
    if (!counts) this.steps.set(step, (counts = emptyCounts()));
    counts[kind] += 1;
    counts.total += 1;
  }

  /** Counts per step, steps in name order. */
  byStep(): Map<string, StoreOperationCounts> {
    return new Map([...this.steps].sort(([a], [b]) => a.localeCompare(b)).map(([step, counts]) => [step, { ...counts }]));
  }

  /** Counts over every step. */
  totals(): StoreOperationCounts {
    const sum = emptyCounts();
    for (const counts of this.steps.values()) {
      for (const kind of storeOperationKinds) sum[kind] += counts[kind];
      sum.total += counts.total;
    }
    return sum;
  }

  reset(): void {
    this.steps.clear();
  }
}

/** Which kind of operation each counted method of a port is; methods left out are passed through uncounted. */
export type StoreOperationKinds<T> = Partial<Record<keyof T & string, StoreOperationKind>>;

/**
 * `port` with each call of a method named in `kinds` counted in `counter` (one call = one
 * operation of that kind, whatever the adapter does underneath). Works on every adapter of a port.
 */
export function countingPort<T extends object>(port: T, counter: StoreOperationCounter, kinds: StoreOperationKinds<T>): T {
  const kindOf = kinds as Partial<Record<string | symbol, StoreOperationKind>>;
  return new Proxy(port, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const kind = kindOf[property];
      const method = value as (...args: unknown[]) => unknown;
      if (!kind) return method.bind(target);
      return (...args: unknown[]) => {
        counter.record(kind);
        return method.apply(target, args);
      };
    },
  });
}

function isAsyncGenerator(value: unknown): value is AsyncGenerator<unknown, unknown, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AsyncGenerator).next === 'function' &&
    typeof (value as AsyncGenerator)[Symbol.asyncIterator] === 'function'
  );
}

/** Iterates `generator` with each step of it run as `step` (a generator's body runs in the context of whoever calls `next`). */
async function* inStoreStep<T>(
  step: string,
  generator: AsyncGenerator<T, unknown, unknown>,
): AsyncGenerator<T, unknown, unknown> {
  let done = false;
  try {
    for (;;) {
      const next = await withStoreStep(step, () => generator.next());
      if (next.done) {
        done = true;
        return next.value;
      }
      yield next.value;
    }
  } finally {
    if (!done) await withStoreStep(step, () => generator.return(undefined)).catch(() => undefined);
  }
}

/**
 * `handlers` (e.g. a gRPC service implementation) with each method run as the store step
 * `stepOf(method name)`; methods that return an async generator (server streams) are stepped
 * through as that step too.
 */
export function withStoreSteps<T extends object>(handlers: T, stepOf: (method: string) => string): T {
  const stepped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(handlers)) {
    if (typeof value !== 'function') {
      stepped[name] = value;
      continue;
    }
    const step = stepOf(name);
    const method = value as (...args: unknown[]) => unknown;
    stepped[name] = function steppedMethod(this: unknown, ...args: unknown[]): unknown {
      const result = withStoreStep(step, () => method.apply(this, args));
      return isAsyncGenerator(result) ? inStoreStep(step, result) : result;
    };
  }
  return stepped as T;
}
