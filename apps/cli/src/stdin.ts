import { CliError } from './errors';

/**
 * Reads the first line of `stream` (a secret piped in: `printf %s "$SECRET" | mailroute …`),
 * without its line ending. The value is never echoed or logged.
 */
export async function readSecretLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    if (text.includes('\n')) break;
  }
  const line = (text.split(/\r?\n/)[0] ?? '').trim();
  if (line.length === 0) throw new CliError('--client-secret-stdin: stdin was empty (pipe the secret Value in)');
  return line;
}
