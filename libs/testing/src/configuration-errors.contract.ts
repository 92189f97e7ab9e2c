import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServiceProcess } from './service-process';

/** One bad configuration a service must refuse at start. */
export interface ConfigurationErrorCase {
  /** What is wrong, as the test's name says it. */
  name: string;
  /** Variables added to the service's base environment. */
  env: Record<string, string>;
  /** The variable the message must name. */
  variable: string;
  /** A part of the bad value that must not appear in anything the process writes. */
  secret?: string;
}

/** EX_CONFIG from sysexits.h: what every mailroute service exits with on a configuration error. */
export const configurationExitCode = 78;

/**
 * Spawns the service's real `main.ts` once per case and expects it to stop before serving: exit code
 * 78, a message naming the variable, and the bad value echoed nowhere. `baseEnv(workDir)` gives a
 * configuration that would start (free ports, an embedded store in `workDir`), so only the case's
 * variables are wrong.
 */
export function describeConfigurationErrors(
  entry: string,
  baseEnv: (workDir: string) => Record<string, string>,
  cases: readonly ConfigurationErrorCase[],
): void {
  describe(`${entry}: configuration errors`, () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'mailroute-config-'));
    afterAll(() => rmSync(workDir, { recursive: true, force: true }));

    it.concurrent.each(cases.map((entryCase) => [entryCase.name, entryCase] as const))(
      '%s: exits 78 naming the variable, without echoing the value',
      async (_name, entryCase) => {
        const proc = startServiceProcess(entry, { ...baseEnv(workDir), ...entryCase.env });
        const timer = setTimeout(() => proc.child.kill('SIGKILL'), 90_000);
        const { code } = await proc.exited;
        clearTimeout(timer);
        const output = proc.output.join('\n');
        expect({ code, names: output.includes(entryCase.variable) }).toEqual({ code: configurationExitCode, names: true });
        if (entryCase.secret) expect(output).not.toContain(entryCase.secret);
      },
    );
  });
}
