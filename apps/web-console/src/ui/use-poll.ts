import { useEffect, useRef, useState } from 'preact/hooks';
import { toFailure, type Failure } from '../api/errors';

/** Calls `load` now and every `everyMs` while mounted; the latest result or failure. */
export function usePoll<T>(
  load: () => Promise<T>,
  everyMs: number,
  deps: unknown[] = [],
): { data: T | undefined; failure: Failure | undefined; refresh: () => void } {
  const [data, setData] = useState<T>();
  const [failure, setFailure] = useState<Failure>();
  const [tick, setTick] = useState(0);
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    let live = true;
    const run = () =>
      latest
        .current()
        .then((value) => live && (setData(value), setFailure(undefined)))
        .catch((error) => live && setFailure(toFailure(error)));
    void run();
    const timer = setInterval(run, everyMs);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [everyMs, tick, ...deps]);
  return { data, failure, refresh: () => setTick((n) => n + 1) };
}
