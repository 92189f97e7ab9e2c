import {
  CompleteDelegatedSignInResponse,
  CreateMailboxResponse,
  DelegatedSignInStatus,
  DiagnoseMailboxAccessResponse,
  GetMailboxResponse,
  GetSyncStatusResponse,
  InitialSyncMode,
  ListMailboxesResponse,
  ListSyncStatusesResponse,
  MailboxAccessMode,
  MailboxIntakeMode,
  MailboxKind,
  MailboxPollingReason,
  MailboxSyncState,
  PostProcessingAction,
  SyncNowResponse,
  type FolderRef,
  type Mailbox,
  type MailboxIntake,
  type MailboxSyncStatus,
} from '@mailroute/contracts';
import { flag, str, type Command, type CommandContext } from '../command';
import { CliError, UsageError } from '../errors';
import { formatDiagnosis, formatDuration, formatFindingAdvice, formatTime, keyValues, table, terminalSafe } from '../format';
import { enumChoices, enumLabel, parseDuration, parseEnum, parseInteger } from '../values';
import { diagnosisExitCode } from './credentials.command';

/** A folder as typed: a well-known name (`inbox`, `archive`), a path with '/' (`Inbox/Support`), or `id:<graph id>`. */
export function parseFolder(text: string): FolderRef {
  const value = text.trim();
  if (value.startsWith('id:')) return { folder: { $case: 'folderId', value: value.slice(3) } };
  if (value.includes('/') || /\s/.test(value)) return { folder: { $case: 'path', value } };
  return { folder: { $case: 'wellKnownName', value } };
}

function folderLabel(folder: FolderRef | undefined): string {
  if (!folder?.folder) return 'inbox';
  return folder.folder.$case === 'folderId' ? `id:${folder.folder.value}` : folder.folder.value;
}

const state = (value: number) => enumLabel(MailboxSyncState, 'MAILBOX_SYNC_STATE', value);

/** `push (subscription until …)` or `polling: <reason> — <detail>`. */
function intakeView(intake: MailboxIntake | undefined): string | undefined {
  if (!intake || intake.mode === MailboxIntakeMode.MAILBOX_INTAKE_MODE_UNSPECIFIED) return undefined;
  if (intake.mode === MailboxIntakeMode.MAILBOX_INTAKE_MODE_PUSH)
    return `push (subscription until ${formatTime(intake.subscriptionExpiresAt) || 'unknown'})`;
  const reason = enumLabel(MailboxPollingReason, 'MAILBOX_POLLING_REASON', intake.pollingReason);
  return `polling: ${reason}${intake.detail ? ` — ${intake.detail}` : ''}`;
}

function statusView(status: MailboxSyncStatus | undefined): string {
  if (!status) return 'no sync status yet';
  const lines = keyValues([
    ['mailbox', status.mailboxId],
    ['state', state(status.state)],
    ['intake', intakeView(status.intake)],
    ['last sync started', formatTime(status.lastSyncStartedAt)],
    ['last complete sync', formatTime(status.lastSuccessfulSyncAt)],
    ['lag', formatDuration(status.lag)],
    ['next sync', formatTime(status.nextSyncAt)],
    ['throttled until', formatTime(status.throttledUntil)],
    ['backlog', status.backlogMessages],
    ['ingested (total)', status.messagesIngestedTotal],
    ['last ingested', formatTime(status.lastIngestedAt)],
    ['consecutive failures', status.consecutiveFailures || undefined],
    ['lease owner', status.leaseOwner],
  ]);
  return status.lastError
    ? `${lines}\n\nlast error (${formatTime(status.lastErrorAt)}):\n${formatFindingAdvice(status.lastError).join('\n')}`
    : lines;
}

function mailboxView(mailbox: Mailbox | undefined): string {
  if (!mailbox) return 'no mailbox returned';
  const post = mailbox.postProcessing;
  return [
    keyValues([
      ['mailbox', mailbox.mailboxId],
      ['address', mailbox.address],
      ['name', mailbox.displayName],
      [
        'kind',
        mailbox.kind === MailboxKind.MAILBOX_KIND_UNSPECIFIED
          ? 'not detected yet'
          : enumLabel(MailboxKind, 'MAILBOX_KIND', mailbox.kind),
      ],
      [
        'access',
        enumLabel(MailboxAccessMode, 'MAILBOX_ACCESS_MODE', mailbox.accessMode || MailboxAccessMode.MAILBOX_ACCESS_MODE_APP_ONLY),
      ],
      ['credentials', mailbox.credentialsId || 'default'],
      ['folder', folderLabel(mailbox.folder)],
      [
        'after ingest',
        post
          ? `${enumLabel(PostProcessingAction, 'POST_PROCESSING_ACTION', post.action)}${post.moveTo ? ` → ${folderLabel(post.moveTo)}` : ''}`
          : 'MARK_READ',
      ],
      ['default queue', mailbox.defaultQueueId],
      ['poll interval', formatDuration(mailbox.pollInterval) || '1m'],
      ['enabled', mailbox.enabled === false ? 'no' : 'yes'],
    ]),
    '',
    statusView(mailbox.syncStatus),
  ].join('\n');
}

function mailboxFromOptions(context: CommandContext, address: string): Mailbox {
  const { values } = context;
  const action = str(values, 'post-processing');
  const moveTo = str(values, 'move-to');
  const backfill = str(values, 'backfill-days');
  const poll = str(values, 'poll-interval');
  const limit = str(values, 'attachment-limit-mb');
  const postAction = action
    ? parseEnum<PostProcessingAction>(PostProcessingAction, 'POST_PROCESSING_ACTION', action, '--post-processing')
    : undefined;
  if (
    moveTo &&
    postAction !== PostProcessingAction.POST_PROCESSING_ACTION_MOVE &&
    postAction !== PostProcessingAction.POST_PROCESSING_ACTION_MARK_READ_AND_MOVE
  ) {
    throw new UsageError('--move-to needs --post-processing move or mark-read-and-move');
  }
  const folder = str(values, 'folder');
  return {
    mailboxId: '',
    address,
    displayName: str(values, 'name') ?? '',
    kind: MailboxKind.MAILBOX_KIND_UNSPECIFIED,
    accessMode: flag(values, 'delegated')
      ? MailboxAccessMode.MAILBOX_ACCESS_MODE_DELEGATED
      : MailboxAccessMode.MAILBOX_ACCESS_MODE_APP_ONLY,
    credentialsId: str(values, 'credentials') ?? '',
    ...(folder ? { folder: parseFolder(folder) } : {}),
    ...(postAction !== undefined
      ? { postProcessing: { action: postAction, ...(moveTo ? { moveTo: parseFolder(moveTo) } : {}) } }
      : {}),
    ...(backfill
      ? {
          initialSync: {
            mode: InitialSyncMode.INITIAL_SYNC_MODE_BACKFILL,
            backfillDays: parseInteger(backfill, '--backfill-days', 1, 90),
          },
        }
      : {}),
    ...(poll ? { pollInterval: parseDuration(poll, '--poll-interval') } : {}),
    ...(flag(values, 'disabled') ? { enabled: false } : {}),
    defaultQueueId: str(values, 'default-queue') ?? '',
    attachmentStorageLimitBytes: limit ? parseInteger(limit, '--attachment-limit-mb', 1, 150) * 1024 * 1024 : 0,
    etag: '',
  };
}

export const mailboxCommands: Command[] = [
  {
    path: ['mailbox', 'add'],
    summary: 'route a Microsoft 365 mailbox (user or shared) through mailroute',
    args: ['<address>'],
    options: {
      id: { type: 'string', value: '<mailbox-id>', description: 'id for the mailbox (default: generated)' },
      name: { type: 'string', value: '<text>', description: 'display name' },
      'default-queue': { type: 'string', value: '<queue-id>', description: 'queue for mail no routing rule matches' },
      credentials: { type: 'string', value: '<credentials-id>', description: 'tenant credentials to use (default "default")' },
      delegated: {
        type: 'boolean',
        description: 'delegated access (a user signs in with `mailbox sign-in`) instead of app-only',
      },
      folder: {
        type: 'string',
        value: '<folder>',
        description: 'folder to read: well-known name, path "Inbox/Support" or id:<graph id> (default inbox)',
      },
      'post-processing': {
        type: 'string',
        value: `<${enumChoices(PostProcessingAction, 'POST_PROCESSING_ACTION').join('|')}>`,
        description: 'what to do with ingested mail (default mark-read; never deletes)',
      },
      'move-to': { type: 'string', value: '<folder>', description: 'target folder of move / mark-read-and-move' },
      'backfill-days': {
        type: 'string',
        value: '<1-90>',
        description: 'also ingest mail of the last N days on the first sync (default: only new mail)',
      },
      'poll-interval': { type: 'string', value: '<duration>', description: 'time between sync rounds, 10s-1h (default 60s)' },
      'attachment-limit-mb': {
        type: 'string',
        value: '<1-150>',
        description: 'attachment content stored per message (default 25)',
      },
      disabled: { type: 'boolean', description: 'create it disabled (not synced)' },
      diagnose: { type: 'boolean', description: 'run the access diagnosis right after creating it' },
    },
    async run(context) {
      const address = context.positionals[0] ?? '';
      const api = context.clients.mailboxFetch();
      const response = await api.createMailbox({
        mailboxId: str(context.values, 'id') ?? '',
        mailbox: mailboxFromOptions(context, address),
      });
      if (!flag(context.values, 'diagnose')) {
        context.print(
          CreateMailboxResponse.toJSON(response),
          () =>
            `${mailboxView(response.mailbox)}\n\ncheck its access with: mailroute mailbox diagnose ${response.mailbox?.mailboxId ?? ''}`,
        );
        return;
      }
      const diagnosis = await api.diagnoseMailboxAccess({
        target: { $case: 'mailboxId', value: response.mailbox?.mailboxId ?? '' },
        skipSendCheck: false,
      });
      context.print(
        { mailbox: CreateMailboxResponse.toJSON(response), diagnosis: DiagnoseMailboxAccessResponse.toJSON(diagnosis) },
        () =>
          [
            mailboxView(response.mailbox),
            '',
            formatDiagnosis(`mailbox ${terminalSafe(diagnosis.mailboxAddress)}`, diagnosis.diagnosis),
          ].join('\n'),
      );
      return diagnosisExitCode(diagnosis.diagnosis?.result);
    },
  },
  {
    path: ['mailbox', 'list'],
    summary: 'list the routed mailboxes with their sync state',
    options: {
      state: {
        type: 'string',
        value: '<state>',
        description: `only mailboxes in this state (${enumChoices(MailboxSyncState, 'MAILBOX_SYNC_STATE').join(', ')})`,
      },
    },
    async run(context) {
      const filter = str(context.values, 'state');
      const response = await context.clients.mailboxFetch().listMailboxes({
        page: { pageSize: 500, pageToken: '' },
        addressContains: '',
        syncState: filter
          ? parseEnum<MailboxSyncState>(MailboxSyncState, 'MAILBOX_SYNC_STATE', filter, '--state')
          : MailboxSyncState.MAILBOX_SYNC_STATE_UNSPECIFIED,
      });
      context.print(ListMailboxesResponse.toJSON(response), () =>
        table(
          ['ID', 'ADDRESS', 'KIND', 'STATE', 'INTAKE', 'LAG', 'INGESTED', 'DEFAULT QUEUE'],
          response.mailboxes.map((m) => [
            m.mailboxId,
            m.address,
            m.kind ? enumLabel(MailboxKind, 'MAILBOX_KIND', m.kind) : '',
            m.syncStatus ? state(m.syncStatus.state) : '',
            m.syncStatus?.intake?.mode ? enumLabel(MailboxIntakeMode, 'MAILBOX_INTAKE_MODE', m.syncStatus.intake.mode) : '',
            formatDuration(m.syncStatus?.lag),
            m.syncStatus?.messagesIngestedTotal ?? 0,
            m.defaultQueueId,
          ]),
        ),
      );
    },
  },
  {
    path: ['mailbox', 'show'],
    summary: "show a mailbox's configuration and sync status",
    args: ['<mailbox-id>'],
    async run(context) {
      const response = await context.clients.mailboxFetch().getMailbox({ mailboxId: context.positionals[0] ?? '' });
      context.print(GetMailboxResponse.toJSON(response), () => mailboxView(response.mailbox));
    },
  },
  {
    path: ['mailbox', 'diagnose'],
    summary: 'check token, mailbox, read access (access policy / RBAC scope), send access and folders, in order',
    args: ['[mailbox-id]'],
    options: {
      address: {
        type: 'string',
        value: '<address>',
        description: 'diagnose a mailbox before adding it (instead of a mailbox id)',
      },
      credentials: { type: 'string', value: '<credentials-id>', description: 'with --address: credentials to use' },
      delegated: { type: 'boolean', description: 'with --address: delegated access' },
      'skip-send-check': { type: 'boolean', description: 'do not check Mail.Send (receive-only mailboxes)' },
    },
    async run(context) {
      const id = context.positionals[0];
      const address = str(context.values, 'address');
      if (!id === !address) throw new UsageError('give a mailbox id or --address (not both)');
      const response = await context.clients.mailboxFetch().diagnoseMailboxAccess({
        target: id
          ? { $case: 'mailboxId', value: id }
          : { $case: 'candidate', value: mailboxFromOptions(context, address ?? '') },
        skipSendCheck: flag(context.values, 'skip-send-check'),
      });
      context.print(DiagnoseMailboxAccessResponse.toJSON(response), () =>
        formatDiagnosis(`mailbox ${terminalSafe(response.mailboxAddress)}`, response.diagnosis),
      );
      return diagnosisExitCode(response.diagnosis?.result);
    },
  },
  {
    path: ['mailbox', 'sync'],
    summary: 'start a sync round now (or re-read the folder with --full; nothing is ingested twice)',
    args: ['<mailbox-id>'],
    options: { full: { type: 'boolean', description: 'drop the delta link and re-read the folder' } },
    async run(context) {
      const response = await context.clients
        .mailboxFetch()
        .syncNow({ mailboxId: context.positionals[0] ?? '', fullResync: flag(context.values, 'full') });
      context.print(SyncNowResponse.toJSON(response), () => `sync requested\n\n${statusView(response.status)}`);
    },
  },
  {
    path: ['mailbox', 'status'],
    summary: 'sync status: of one mailbox, or a table of all (lag, backlog, errors)',
    args: ['[mailbox-id]'],
    options: { state: { type: 'string', value: '<state>', description: 'only mailboxes in this state, e.g. auth-failed' } },
    async run(context) {
      const api = context.clients.mailboxFetch();
      const id = context.positionals[0];
      if (id) {
        const response = await api.getSyncStatus({ mailboxId: id });
        context.print(GetSyncStatusResponse.toJSON(response), () => statusView(response.status));
        return;
      }
      const filter = str(context.values, 'state');
      const response = await api.listSyncStatuses({
        page: { pageSize: 500, pageToken: '' },
        state: filter
          ? parseEnum<MailboxSyncState>(MailboxSyncState, 'MAILBOX_SYNC_STATE', filter, '--state')
          : MailboxSyncState.MAILBOX_SYNC_STATE_UNSPECIFIED,
      });
      context.print(ListSyncStatusesResponse.toJSON(response), () =>
        table(
          ['MAILBOX', 'STATE', 'LAST COMPLETE SYNC', 'LAG', 'BACKLOG', 'INGESTED', 'LAST ERROR'],
          response.statuses.map((s) => [
            s.mailboxId,
            state(s.state),
            formatTime(s.lastSuccessfulSyncAt),
            formatDuration(s.lag),
            s.backlogMessages,
            s.messagesIngestedTotal,
            s.lastError?.message ?? '',
          ]),
        ),
      );
    },
  },
  {
    path: ['mailbox', 'sign-in'],
    summary: 'delegated mode: the mailbox owner signs in with a device code; the grant is stored in auth-broker',
    args: ['<address>'],
    options: {
      credentials: {
        type: 'string',
        value: '<credentials-id>',
        description: 'app registration to sign in with (default "default"; must allow public client flows)',
      },
    },
    async run(context) {
      const api = context.clients.authBroker();
      const started = await api.startDelegatedSignIn({
        mailboxAddress: context.positionals[0] ?? '',
        credentialsId: str(context.values, 'credentials') ?? '',
      });
      context.io.stderr(
        terminalSafe(started.message || `open ${started.verificationUri} and enter the code ${started.userCode}`),
      );
      context.io.stderr(
        terminalSafe(
          `delegated permissions an admin must have consented to: ${started.requiredScopes.join(', ')}` +
            (started.delegateScopes.length > 0
              ? `; if the user who signs in is not the mailbox itself (a delegate with Full Access and Send As), also ${started.delegateScopes.join(', ')}`
              : ''),
        ),
      );
      for (;;) {
        if (context.io.signal.aborted) throw new CliError('sign-in cancelled');
        // Long-poll, but always within the call's deadline.
        const waitSeconds = Math.max(1, Math.min(20, Math.floor(context.settings.timeoutMs / 1000) - 5));
        const outcome = await api.completeDelegatedSignIn({
          signInId: started.signInId,
          wait: { seconds: waitSeconds, nanos: 0 },
        });
        if (outcome.status === DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_PENDING) continue;
        context.print(CompleteDelegatedSignInResponse.toJSON(outcome), () =>
          outcome.status === DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_COMPLETED
            ? `signed in as ${terminalSafe(outcome.grant?.signedInUser ?? '')}; scopes ${outcome.grant?.grantedScopes.join(' ') ?? ''}`
            : [
                `sign-in ${enumLabel(DelegatedSignInStatus, 'DELEGATED_SIGN_IN_STATUS', outcome.status)}`,
                ...(outcome.failure ? formatFindingAdvice(outcome.failure) : []),
              ].join('\n'),
        );
        return outcome.status === DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_COMPLETED ? 0 : 3;
      }
    },
  },
];
