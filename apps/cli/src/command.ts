import { parseArgs } from 'node:util';
import type { ServiceClients } from './clients';
import { UsageError } from './errors';
import type { CliSettings, OptionValues } from './settings';

/** One option of a command, as node:util parseArgs takes it, with its help text. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Placeholder shown in the usage, e.g. `<queue-id>`. */
  value?: string;
  description: string;
}

/** What a command's `run` gets. */
export interface CommandContext {
  values: OptionValues;
  positionals: string[];
  settings: CliSettings;
  clients: ServiceClients;
  io: CliIo;
  /** Prints the result: `json` with --json, otherwise `human` (a function so tables are only built when shown). */
  print(json: unknown, human: () => string): void;
  /** The current time (a parameter so tests can fix it). */
  now(): Date;
}

/** A command: `mailroute <path…> [positionals] [options]`. */
export interface Command {
  path: readonly string[];
  summary: string;
  /** Positional arguments as shown in the usage, e.g. `<queue-id>`; `[x]` marks optional ones. */
  args?: readonly string[];
  options?: Readonly<Record<string, OptionSpec>>;
  /** Longer help: examples, notes. */
  details?: string;
  run(context: CommandContext): Promise<number | void>;
}

/** The process around the CLI: output sinks, stdin and the environment (tests pass their own). */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin: NodeJS.ReadableStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C / SIGTERM: long-running commands (agent connect) stop cleanly. */
  signal: AbortSignal;
}

/** Options every command takes. */
const globalOptions: Readonly<Record<string, OptionSpec>> = {
  'auth-broker': {
    type: 'string',
    value: '<host:port>',
    description: 'auth-broker address (MAILROUTE_AUTH_BROKER, default 127.0.0.1:50051)',
  },
  'mailbox-fetch': {
    type: 'string',
    value: '<host:port>',
    description: 'mailbox-fetch address (MAILROUTE_MAILBOX_FETCH, default 127.0.0.1:50052)',
  },
  router: {
    type: 'string',
    value: '<host:port>',
    description: 'interaction-router address (MAILROUTE_ROUTER, default 127.0.0.1:50053)',
  },
  'api-key': {
    type: 'string',
    value: '<key>',
    description: 'workload-manager API key (MAILROUTE_API_KEY); prefer the variable: flags show in process lists',
  },
  'ca-file': {
    type: 'string',
    value: '<file>',
    description: 'PEM CA the services are verified against: calls go over TLS (MAILROUTE_TLS_CA_FILE)',
  },
  'cert-file': {
    type: 'string',
    value: '<file>',
    description: 'PEM client certificate for services that require one (mTLS), with --key-file (MAILROUTE_TLS_CERT_FILE)',
  },
  'key-file': { type: 'string', value: '<file>', description: 'PEM private key of --cert-file (MAILROUTE_TLS_KEY_FILE)' },
  timeout: { type: 'string', value: '<duration>', description: 'deadline of each call (MAILROUTE_TIMEOUT, default 30s)' },
  json: { type: 'boolean', description: 'print JSON (proto3 JSON mapping) instead of tables' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

export interface ParsedCommandLine {
  command: Command | undefined;
  /** Words that named no command (for the error message). */
  words: string[];
  values: OptionValues;
  positionals: string[];
}

/**
 * Splits `argv` into the command (the longest run of leading words that names one; global options
 * may come before it) and its options and positionals, strictly: unknown options, missing option
 * values and surplus positionals are UsageErrors naming what is wrong.
 */
export function parseCommandLine(argv: readonly string[], commands: readonly Command[]): ParsedCommandLine {
  const words: string[] = [];
  const wordIndexes: number[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const token = argv[index] ?? '';
    if (token === '--') break;
    if (token.startsWith('-')) {
      const name = token.replace(/^--?/, '').split('=')[0] ?? '';
      const spec = globalOptions[name];
      if (spec?.type === 'string' && !token.includes('=')) index += 1;
      if (!spec && words.length > 0) break; // a command option: the command path is complete
      continue;
    }
    words.push(token);
    wordIndexes.push(index);
    if (words.length >= 3) break;
  }
  let command: Command | undefined;
  let used = 0;
  for (const candidate of commands) {
    const n = candidate.path.length;
    if (n > used && n <= words.length && candidate.path.every((part, i) => words[i] === part)) {
      command = candidate;
      used = n;
    }
  }
  const skip = new Set(wordIndexes.slice(0, used));
  const rest = argv.filter((_token, index) => !skip.has(index));
  const options = { ...globalOptions, ...(command?.options ?? {}) };
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: Object.fromEntries(
        Object.entries(options).map(([name, spec]) => [
          name,
          { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    }) as { values: OptionValues; positionals: string[] };
  } catch (error) {
    throw new UsageError(parseArgsMessage(error));
  }
  if (command && !parsed.values['help']) {
    const args = command.args ?? [];
    const required = args.filter((arg) => arg.startsWith('<')).length;
    if (parsed.positionals.length < required) {
      throw new UsageError(`missing ${args.slice(parsed.positionals.length, required).join(' ')}`);
    }
    if (parsed.positionals.length > args.length && !args.some((arg) => arg.endsWith('…]') || arg.endsWith('…>'))) {
      throw new UsageError(`unexpected argument "${parsed.positionals[args.length] ?? ''}"`);
    }
  }
  return { command, words: command ? words.slice(0, used) : words, values: parsed.values, positionals: parsed.positionals };
}

function parseArgsMessage(error: unknown): string {
  // Checked by shape, not instanceof: errors from node internals may come from another realm (jest's vm).
  const raw = (error as { message?: unknown } | null)?.message;
  const message = typeof raw === 'string' ? raw : String(error);
  // node's messages end with hints about '--' that do not apply to a CLI user; keep the first sentence.
  const first = message.split('. ')[0] ?? message;
  return first
    .replace(/^Unknown option '(.+)'$/, 'unknown option $1')
    .replace(/^Option '(.+?)' argument missing$/, 'option $1 needs a value');
}

/** Usage of one command. */
export function commandHelp(command: Command): string {
  const options = Object.entries(command.options ?? {});
  const lines = [
    `usage: mailroute ${command.path.join(' ')}${command.args?.length ? ` ${command.args.join(' ')}` : ''}${options.length ? ' [options]' : ''}`,
    '',
    command.summary,
  ];
  if (options.length > 0) {
    lines.push('', 'options:');
    lines.push(...optionLines(options));
  }
  if (command.details) lines.push('', command.details);
  lines.push('', 'global options:', ...optionLines(Object.entries(globalOptions)));
  return lines.join('\n');
}

/** The overview: every command with its summary. */
export function overviewHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.path.join(' ').length));
  return [
    'usage: mailroute <command> [arguments] [options]    (npm run mailroute -- <command> …)',
    '',
    'commands:',
    ...commands.map((command) => `  ${command.path.join(' ').padEnd(width)}  ${command.summary}`),
    '',
    'global options:',
    ...optionLines(Object.entries(globalOptions)),
    '',
    "`mailroute <command> --help` shows a command's options; docs/cli.md is the reference.",
  ].join('\n');
}

function optionLines(options: [string, OptionSpec][]): string[] {
  const labels = options.map(
    ([name, spec]) =>
      `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}${spec.multiple ? ' …' : ''}`,
  );
  const width = Math.max(...labels.map((label) => label.length));
  return options.map(([, spec], index) => `  ${(labels[index] ?? '').padEnd(width)}  ${spec.description}`);
}

/** Accessors for option values with the right types. */
export function str(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function list(values: OptionValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

export function requireStr(values: OptionValues, name: string): string {
  const value = str(values, name);
  if (value === undefined || value.trim().length === 0) throw new UsageError(`--${name} is required`);
  return value;
}
