import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import {
  AgentPresence,
  CheckOutcome,
  ConnectResponse,
  Interaction,
  DiagnosisResult,
  DiagnosticCheck,
  DiagnosticCode,
  InteractionState,
  QueueStrategy,
  SetupStep,
} from '@mailroute/contracts';
import { ClientError, Status } from 'nice-grpc-common';
import { commands, runCli } from './cli';
import { parseCommandLine } from './command';
import { applyEvent, DesktopState, parseSessionLine, resolveRef } from './commands/desktop-session';
import { parseFolder } from './commands/mailbox.command';
import { CallFailedError, describeFailure, UsageError } from './errors';
import { formatDiagnosis, formatDuration, formatTime, table, terminalSafe, truncate } from './format';
import { resolveSettings } from './settings';
import { enumChoices, enumLabel, parseDuration, parseEnum, parseInstant, parseSkill } from './values';

function fakeIo(env: Record<string, string> = {}, stdinText?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const stdin = new PassThrough();
  if (stdinText !== undefined) stdin.end(stdinText);
  return {
    out,
    err,
    io: {
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => err.push(t),
      stdin,
      env,
      signal: new AbortController().signal,
    },
  };
}

describe('command line parsing', () => {
  it('finds the longest command path, with global options before or after it', () => {
    const parsed = parseCommandLine(
      ['--json', 'queue', 'create', 'billing', '--name', 'Billing', '--skill', 'de:3', '--skill', 'billing'],
      commands,
    );
    expect(parsed.command?.path).toEqual(['queue', 'create']);
    expect(parsed.positionals).toEqual(['billing']);
    expect(parsed.values).toMatchObject({ json: true, name: 'Billing', skill: ['de:3', 'billing'] });

    const withValue = parseCommandLine(['--router', '10.0.0.5:50053', 'queue', 'list'], commands);
    expect(withValue.command?.path).toEqual(['queue', 'list']);
    expect(withValue.values['router']).toBe('10.0.0.5:50053');
    expect(withValue.positionals).toEqual([]);
  });

  it('refuses unknown options, missing values, missing and surplus arguments with a UsageError naming them', () => {
    expect(() => parseCommandLine(['queue', 'create', 'q1', '--nmae', 'x'], commands)).toThrow(
      new UsageError('unknown option --nmae'),
    );
    expect(() => parseCommandLine(['queue', 'create', 'q1', '--name'], commands)).toThrow(
      /--name.*needs a value|argument missing/,
    );
    expect(() => parseCommandLine(['mailbox', 'show'], commands)).toThrow(new UsageError('missing <mailbox-id>'));
    expect(() => parseCommandLine(['queue', 'list', 'extra'], commands)).toThrow(new UsageError('unexpected argument "extra"'));
  });

  it('reports an unknown command with exit code 2 and the overview, and --help with exit code 0', async () => {
    const unknown = fakeIo();
    await expect(runCli(['queue', 'explode'], unknown.io)).resolves.toBe(2);
    expect(unknown.err.join('\n')).toContain('unknown command "queue explode"');

    const help = fakeIo();
    await expect(runCli(['agent', 'connect', '--help'], help.io)).resolves.toBe(0);
    expect(help.out.join('\n')).toContain('usage: mailroute agent connect [options]');
    expect(help.out.join('\n')).toContain('reply [interaction-id] <text…>');
  });

  it('fails before any call when no API key is configured, saying where to set it', async () => {
    const { io, err } = fakeIo();
    await expect(runCli(['queue', 'list'], io)).resolves.toBe(1);
    expect(err.join('\n')).toBe('error: no API key: pass --api-key or set MAILROUTE_API_KEY (see docs/cli.md, "API keys")');
  });

  it('refuses credentials without a secret or certificate, and never takes the secret as a flag value', async () => {
    const missing = fakeIo({ MAILROUTE_API_KEY: 'k' });
    await expect(
      runCli(
        ['credentials', 'add', '--directory', 'contoso.example', '--client-id', '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f'],
        missing.io,
      ),
    ).resolves.toBe(2);
    expect(missing.err[0]).toMatch(/^error: a credential is required: --client-secret-stdin/);

    const asFlag = fakeIo({ MAILROUTE_API_KEY: 'k' });
    await expect(runCli(['credentials', 'add', '--client-secret', 'hunter2'], asFlag.io)).resolves.toBe(2);
    expect(asFlag.err.join('\n')).toContain('unknown option --client-secret');
    expect(asFlag.err.join('\n')).not.toContain('hunter2');

    const noExpiry = fakeIo({ MAILROUTE_API_KEY: 'k' }, 'the-secret-value\n');
    await expect(
      runCli(['credentials', 'add', '--directory', 'd', '--client-id', 'c', '--client-secret-stdin'], noExpiry.io),
    ).resolves.toBe(2);
    expect(noExpiry.err[0]).toContain('--secret-expires is required');
    expect(noExpiry.err.join('\n')).not.toContain('the-secret-value');
  });
});

describe('settings', () => {
  it('takes flags over environment variables over the loopback defaults', () => {
    const settings = resolveSettings(
      { router: 'router.internal:443' },
      {
        MAILROUTE_ROUTER: 'ignored:1',
        MAILROUTE_MAILBOX_FETCH: 'fetch:50052',
        MAILROUTE_API_KEY: 'mrk_x',
        MAILROUTE_TIMEOUT: '2m',
      },
    );
    expect(settings).toMatchObject({
      router: 'router.internal:443',
      mailboxFetch: 'fetch:50052',
      authBroker: '127.0.0.1:50051',
      apiKey: 'mrk_x',
      timeoutMs: 120_000,
      json: false,
    });
    expect(settings.agent).toEqual({
      authority: 'https://login.microsoftonline.com',
      directory: undefined,
      clientId: undefined,
      token: undefined,
    });
  });

  it('reads the TLS files once, and names the option or variable of one it cannot read or that lacks its partner', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-tls-'));
    const ca = path.join(dir, 'ca.crt');
    writeFileSync(ca, 'CA PEM');
    try {
      expect(resolveSettings({}, {}).tls).toBeUndefined();
      expect(resolveSettings({ 'ca-file': ca }, {}).tls).toEqual({ ca: Buffer.from('CA PEM') });
      expect(() => resolveSettings({}, { MAILROUTE_TLS_CA_FILE: path.join(dir, 'missing.crt') })).toThrow(
        /^MAILROUTE_TLS_CA_FILE: cannot read the file/,
      );
      expect(() => resolveSettings({ 'cert-file': ca }, {})).toThrow(/--cert-file .* and --key-file .* go together/);
      expect(() => resolveSettings({ 'cert-file': ca, 'key-file': ca }, {})).toThrow(
        /--ca-file .* is required with a client certificate/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the variable or option that holds a bad value', () => {
    expect(() => resolveSettings({}, { MAILROUTE_ROUTER: 'no port' })).toThrow(/^MAILROUTE_ROUTER: "no port" must be host:port/);
    expect(() => resolveSettings({ timeout: '5' }, {})).toThrow(/^--timeout: "5" is not a duration/);
    expect(() => resolveSettings({}, { MAILROUTE_AGENT_AUTHORITY: 'http://login.example' })).toThrow(/must be https:\/\/host/);
  });
});

describe('values', () => {
  it('parses durations with units, alone or combined, and refuses bare numbers', () => {
    expect(parseDuration('90s', '--x')).toEqual({ seconds: 90, nanos: 0 });
    expect(parseDuration('1h30m', '--x')).toEqual({ seconds: 5400, nanos: 0 });
    expect(parseDuration('7d', '--x')).toEqual({ seconds: 604_800, nanos: 0 });
    expect(parseDuration('1500ms', '--x')).toEqual({ seconds: 1, nanos: 500_000_000 });
    expect(() => parseDuration('60', '--offer-timeout')).toThrow('--offer-timeout: "60" is not a duration');
    expect(() => parseDuration('5 minutes', '--x')).toThrow(UsageError);
  });

  it('maps enum names as typed to proto values and lists the choices on a typo', () => {
    expect(parseEnum(QueueStrategy, 'QUEUE_STRATEGY', 'least-occupied', '--strategy')).toBe(
      QueueStrategy.QUEUE_STRATEGY_LEAST_OCCUPIED,
    );
    expect(parseEnum(InteractionState, 'INTERACTION_STATE', 'QUEUED', '--state')).toBe(InteractionState.INTERACTION_STATE_QUEUED);
    expect(parseEnum(AgentPresence, 'AGENT_PRESENCE', 'AGENT_PRESENCE_AWAY', 'presence')).toBe(AgentPresence.AGENT_PRESENCE_AWAY);
    expect(() => parseEnum(QueueStrategy, 'QUEUE_STRATEGY', 'unspecified', '--strategy')).toThrow(UsageError);
    expect(() => parseEnum(QueueStrategy, 'QUEUE_STRATEGY', 'fastest', '--strategy')).toThrow(
      '--strategy: "fastest" is not one of longest-idle, least-occupied, round-robin, best-skill-match',
    );
    expect(enumChoices(AgentPresence, 'AGENT_PRESENCE')).toEqual(['available', 'busy', 'away', 'offline']);
    expect(enumLabel(InteractionState, 'INTERACTION_STATE', InteractionState.INTERACTION_STATE_OFFERED)).toBe('OFFERED');
  });

  it('parses skills with levels, dates and folders', () => {
    expect(parseSkill('billing', '--skill')).toEqual({ skill: 'billing', level: 1 });
    expect(parseSkill('german:7', '--skill')).toEqual({ skill: 'german', level: 7 });
    expect(() => parseSkill('German:11', '--skill')).toThrow(UsageError);
    expect(parseInstant('2027-05-31', '--secret-expires')).toEqual(new Date('2027-05-31T00:00:00Z'));
    expect(parseInstant('+730d', '--secret-expires', new Date('2026-01-01T00:00:00Z'))).toEqual(new Date('2028-01-01T00:00:00Z'));
    expect(() => parseInstant('next year', '--secret-expires')).toThrow(UsageError);
    expect(parseFolder('inbox')).toEqual({ folder: { $case: 'wellKnownName', value: 'inbox' } });
    expect(parseFolder('Inbox/Support')).toEqual({ folder: { $case: 'path', value: 'Inbox/Support' } });
    expect(parseFolder('id:AAMkAD')).toEqual({ folder: { $case: 'folderId', value: 'AAMkAD' } });
  });
});

describe('formatting', () => {
  it('neutralises terminal escape sequences and bidi overrides from untrusted e-mail text', () => {
    expect(terminalSafe('Invoice \u001b[2J\u001b]0;pwned\u0007 due')).toBe('Invoice ?[2J?]0;pwned? due');
    expect(terminalSafe('line1\r\nline2\u202eevil')).toBe('line1  line2?evil');
  });

  it('aligns table columns by code points and sanitises every cell', () => {
    expect(
      table(
        ['ID', 'SUBJECT'],
        [
          ['a', 'Grüße'],
          ['bbb', 'x\u001b[31m'],
        ],
      ),
    ).toBe(['ID   SUBJECT', 'a    Grüße', 'bbb  x?[31m'].join('\n'));
    expect(truncate('abcdef', 4)).toBe('abc…');
  });

  it('formats durations and times compactly', () => {
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration({ seconds: 750, nanos: 0 })).toBe('12m30s');
    expect(formatDuration(3_900)).toBe('1h05m');
    expect(formatDuration(273_600)).toBe('3d04h');
    expect(formatDuration(undefined)).toBe('');
    expect(formatTime(new Date('2026-11-22T03:41:15.123Z'))).toBe('2026-11-22 03:41:15Z');
  });

  it('shows a diagnosis as a table and spells out the first failure with its setup step and remedy', () => {
    const text = formatDiagnosis('tenant credentials "default"', {
      result: DiagnosisResult.DIAGNOSIS_RESULT_FAILED,
      checkedAt: new Date(),
      findings: [
        {
          check: DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIALS_CONFIGURED,
          outcome: CheckOutcome.CHECK_OUTCOME_PASSED,
          code: DiagnosticCode.DIAGNOSTIC_CODE_OK,
          message: 'configured',
          setupStep: 0,
          remedy: '',
          details: {},
        },
        {
          check: DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_ACCEPTED,
          outcome: CheckOutcome.CHECK_OUTCOME_FAILED,
          code: DiagnosticCode.DIAGNOSTIC_CODE_SECRET_INVALID,
          message: 'The client secret was rejected.',
          setupStep: SetupStep.SETUP_STEP_ADD_APP_CREDENTIAL,
          remedy: 'Create a new client secret and enter its Value.',
          details: { aadsts: '7000215' },
        },
      ],
    });
    expect(text).toContain('tenant credentials "default": FAILED');
    expect(text).toMatch(/PASSED\s+CREDENTIALS_CONFIGURED/);
    expect(text).toMatch(/FAILED\s+CREDENTIAL_ACCEPTED\s+SECRET_INVALID\s+The client secret was rejected\./);
    expect(text).toContain('setup step: ADD_APP_CREDENTIAL (docs/real-tenant.md)');
    expect(text).toContain('remedy: Create a new client secret and enter its Value.');
    expect(text).toContain('details: aadsts=7000215');
  });
});

describe('errors', () => {
  it('shows the gRPC status, the service, the mailroute-error-code and retry-after-ms trailers and a hint — no stack', () => {
    const lines = describeFailure(
      new CallFailedError(
        'auth-broker',
        '127.0.0.1:50051',
        new ClientError(
          '/mailroute.v1.AuthBrokerService/DiagnoseTenant',
          Status.FAILED_PRECONDITION,
          'the client secret has expired',
        ),
        {
          errorCode: 'DIAGNOSTIC_CODE_SECRET_EXPIRED',
          retryAfterMs: '1500',
        },
      ),
    );
    expect(lines).toEqual([
      'error: FAILED_PRECONDITION from auth-broker (127.0.0.1:50051): the client secret has expired',
      '  mailroute-error-code: DIAGNOSTIC_CODE_SECRET_EXPIRED',
      '  retry-after-ms: 1500',
    ]);
    const unavailable = describeFailure(
      new CallFailedError(
        'mailbox-fetch',
        'h:1',
        new ClientError('/x', Status.UNAVAILABLE, 'No connection established. Resolution note: '),
        {},
      ),
    );
    expect(unavailable).toEqual([
      'error: UNAVAILABLE from mailbox-fetch (h:1): No connection established',
      '  hint: is mailbox-fetch running there? Set --mailbox-fetch or MAILROUTE_MAILBOX_FETCH.',
    ]);
  });
});

describe('agent session lines', () => {
  it('splits verbs and arguments, ignoring blank lines and comments', () => {
    expect(parseSessionLine('  Reply abc123  Thanks, refunded.  ')).toEqual({
      verb: 'reply',
      args: ['abc123', 'Thanks,', 'refunded.'],
    });
    expect(parseSessionLine('   ')).toBeUndefined();
    expect(parseSessionLine('# note')).toBeUndefined();
  });

  it('resolves full ids and unique prefixes of at least four characters only', () => {
    const ids = ['3f2a9c10-aaaa', '3f2b0000-bbbb', '77c1e000-cccc'];
    expect(resolveRef('77c1e000-cccc', ids)).toBe('77c1e000-cccc');
    expect(resolveRef('77c1', ids)).toBe('77c1e000-cccc');
    expect(resolveRef('3f2', ids)).toBeUndefined();
    expect(resolveRef('3f2a', ids)).toBe('3f2a9c10-aaaa');
    expect(resolveRef('3f', ids)).toBeUndefined();
    expect(resolveRef('Thanks,', ids)).toBeUndefined();
  });
});

describe('agent desktop events', () => {
  const now = new Date('2026-11-22T10:00:00Z');
  const interaction = Interaction.fromPartial({
    interactionId: 'ixn-1234abcd',
    queueId: 'support',
    subject: 'Refund \u001b]0;owned\u0007 please',
    customer: { address: 'carol@customer.example' },
    state: InteractionState.INTERACTION_STATE_OFFERED,
  });

  it('shows an offer with its expiry and the command to accept it, with hostile subject text neutralised', () => {
    const state = new DesktopState();
    const line = applyEvent(
      state,
      ConnectResponse.fromPartial({
        sequence: 2,
        event: { $case: 'offer', value: { offerId: 'ixn-1234abcd~3', interaction, expiresAt: new Date(now.getTime() + 45_000) } },
      }),
      now,
    );
    expect(line).toBe(
      '[offer] ixn-1234abcd~3  interaction ixn-1234abcd  queue support  from carol@customer.example  "Refund ?]0;owned? please"  expires in 45s  → accept ixn-1234abcd',
    );
    expect(state.newestOffer()).toBe('ixn-1234abcd~3');
  });

  it('moves an accepted offer to the held interactions and makes it current; an ended assignment leaves', () => {
    const state = new DesktopState();
    applyEvent(
      state,
      ConnectResponse.fromPartial({ event: { $case: 'offer', value: { offerId: 'ixn-1234abcd~3', interaction } } }),
      now,
    );
    applyEvent(
      state,
      ConnectResponse.fromPartial({
        event: {
          $case: 'assignment',
          value: { interaction: { ...interaction, state: InteractionState.INTERACTION_STATE_ASSIGNED } },
        },
      }),
      now,
    );
    expect([...state.offers.keys()]).toEqual([]);
    expect(state.current).toBe('ixn-1234abcd');
    expect(applyEvent(state, ConnectResponse.fromPartial({ event: { $case: 'heartbeat', value: {} } }), now)).toBeUndefined();
    expect(
      applyEvent(
        state,
        ConnectResponse.fromPartial({ event: { $case: 'assignmentEnded', value: { interactionId: 'ixn-1234abcd' } } }),
        now,
      ),
    ).toBe('[ended] ixn-1234abcd');
    expect(state.current).toBeUndefined();
  });
});
