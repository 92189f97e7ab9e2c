/** One instruction of a Dockerfile: the keyword (upper case), its raw arguments and, for exec form, the parsed array. */
export interface DockerInstruction {
  keyword: string;
  args: string;
  /** The JSON array of exec-form CMD/ENTRYPOINT/RUN, when the arguments are one. */
  exec?: string[];
  /** `--from=…`, `--chown=…` and other flags before the arguments. */
  flags: Record<string, string>;
  line: number;
}

export interface DockerStage {
  /** The image reference after FROM. */
  image: string;
  alias?: string;
  instructions: DockerInstruction[];
}

/**
 * Parses a Dockerfile into stages: comments and parser directives dropped, backslash line
 * continuations joined, flags (`--from=build`) split off. Enough for static checks, not a builder.
 */
export function parseDockerfile(text: string): DockerStage[] {
  const stages: DockerStage[] = [];
  const lines = text.split('\n');
  let pending = '';
  let startLine = 0;
  for (let index = 0; index < lines.length; index += 1) {
    const raw = lines[index] as string;
    const trimmed = raw.trim();
    if (pending === '' && (trimmed === '' || trimmed.startsWith('#'))) continue;
    if (pending !== '' && trimmed.startsWith('#')) continue;
    if (pending === '') startLine = index + 1;
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1).trimEnd()} `;
      continue;
    }
    const full = `${pending}${trimmed}`.trim();
    pending = '';
    const match = full.match(/^(\S+)\s*(.*)$/s);
    if (!match) continue;
    const keyword = (match[1] as string).toUpperCase();
    let rest = match[2] as string;
    const flags: Record<string, string> = {};
    for (let flag = rest.match(/^--([a-z-]+)(?:=(\S+))?\s*/); flag; flag = rest.match(/^--([a-z-]+)(?:=(\S+))?\s*/)) {
      flags[flag[1] as string] = flag[2] ?? 'true';
      rest = rest.slice(flag[0].length);
    }
    const instruction: DockerInstruction = { keyword, args: rest, flags, line: startLine };
    if (rest.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(rest);
        if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) instruction.exec = parsed;
      } catch {
        // shell form that happens to start with [
      }
    }
    if (keyword === 'FROM') {
      const [image, as, alias] = rest.split(/\s+/);
      stages.push({ image: image ?? '', ...(as?.toUpperCase() === 'AS' && alias ? { alias } : {}), instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`line ${startLine}: ${keyword} before the first FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

/** `KEY=value KEY2="two words"` (ENV's key=value form) → an object. */
export function parseEnvInstruction(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g))
    env[match[1] as string] = match[3] ?? (match[2] as string);
  return env;
}
