import { ServiceClients } from './clients';
import { commandHelp, overviewHelp, parseCommandLine, type CliIo, type Command } from './command';
import { agentDesktopCommands } from './commands/agent-desktop.command';
import { calendarCommands } from './commands/calendar.command';
import { credentialsCommands } from './commands/credentials.command';
import { interactionCommands } from './commands/interaction.command';
import { mailboxCommands } from './commands/mailbox.command';
import { queueAlertCommands } from './commands/queue-alerts.command';
import { routingCommands } from './commands/routing.command';
import { templateCommands } from './commands/template.command';
import { acknowledgementCommands } from './commands/acknowledgement.command';
import { signatureCommands } from './commands/signature.command';
import { describeFailure, exitCodes, UsageError } from './errors';
import { resolveSettings } from './settings';

/** Every command of the CLI, in the order the overview lists them. */
export const commands: readonly Command[] = [
  ...credentialsCommands,
  ...mailboxCommands,
  ...routingCommands,
  ...calendarCommands,
  ...queueAlertCommands,
  ...templateCommands,
  ...acknowledgementCommands,
  ...signatureCommands,
  ...agentDesktopCommands,
  ...interactionCommands,
];

/**
 * Runs one command line and returns the exit code: 0 done, 1 a call failed, 2 a usage error,
 * 3 a diagnosis or sign-in found a problem. Failures are shown as the gRPC status, message and
 * error trailers — never a stack trace.
 */
export async function runCli(argv: readonly string[], io: CliIo, now: () => Date = () => new Date()): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv, commands);
  } catch (error) {
    io.stderr(describeFailure(error).join('\n'));
    const command = parseCommandLineLenient(argv);
    io.stderr(command ? `usage: mailroute ${command.path.join(' ')} --help` : 'usage: mailroute --help');
    return exitCodes.usage;
  }
  const { command, values, positionals, words } = parsed;
  if (!command) {
    if (words.length === 0 || words[0] === 'help' || values['help']) {
      io.stdout(overviewHelp(commands));
      return words.length === 0 && !values['help'] ? exitCodes.usage : exitCodes.ok;
    }
    io.stderr(`error: unknown command "${words.join(' ')}"\n\n${overviewHelp(commands)}`);
    return exitCodes.usage;
  }
  if (values['help']) {
    io.stdout(commandHelp(command));
    return exitCodes.ok;
  }
  let clients: ServiceClients | undefined;
  try {
    const settings = resolveSettings(values, io.env);
    clients = new ServiceClients(settings);
    const code = await command.run({
      values,
      positionals,
      settings,
      clients,
      io,
      now,
      print: (json, human) => io.stdout(settings.json ? JSON.stringify(json, null, 2) : human()),
    });
    return code ?? exitCodes.ok;
  } catch (error) {
    io.stderr(describeFailure(error).join('\n'));
    if (error instanceof UsageError) io.stderr(`usage: mailroute ${command.path.join(' ')} --help`);
    return error instanceof UsageError ? exitCodes.usage : exitCodes.callFailed;
  } finally {
    clients?.close();
  }
}

function parseCommandLineLenient(argv: readonly string[]): Command | undefined {
  const words = argv.filter((token) => !token.startsWith('-')).slice(0, 2);
  return commands.find((command) => command.path.length <= words.length && command.path.every((part, i) => words[i] === part));
}
