import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writePrivateFile } from '@mailroute/platform';

/** Where the demo keeps its traffic sequence, in the data directory. */
export const demoSequenceFile = 'demo-traffic.json';

/** The first seed of a fresh data directory: far from the seeds of the sandbox's own demo mail (42…). */
const firstSeed = 1_000_000;

export interface DemoSeedSequence {
  /** The next seed, stored as used before it is returned: a crash skips a seed, never repeats one. */
  next(): number;
}

/**
 * The seeds of the demo's generated mail, continued across restarts. The sandbox derives each mail's
 * Message-ID from its seed, so a repeated seed would be the same e-mail to mailroute (and dropped as
 * a duplicate), while a clock-derived one made every restart's mail look new.
 */
export function openDemoSeedSequence(dataDir: string): DemoSeedSequence {
  const file = path.join(dataDir, demoSequenceFile);
  let nextSeed = firstSeed;
  if (existsSync(file)) {
    const stored = (JSON.parse(readFileSync(file, 'utf8')) as { nextSeed?: unknown }).nextSeed;
    if (typeof stored === 'number' && Number.isSafeInteger(stored) && stored >= firstSeed) nextSeed = stored;
  }
  return {
    next() {
      const seed = nextSeed;
      nextSeed += 1;
      writePrivateFile(file, `${JSON.stringify({ nextSeed })}\n`);
      return seed;
    },
  };
}
