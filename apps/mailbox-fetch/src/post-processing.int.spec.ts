import { Mailbox, MailboxFetchServiceDefinition, PostProcessingAction, type FolderRef } from '@mailroute/contracts';
import { createGraphMailClient } from '@mailroute/graph-mail';
import { InProcessEventBus } from '@mailroute/messaging';
import { createGrpcClient, createLogger, hashBearerCredential } from '@mailroute/platform';
import {
  createSandboxMailTenant,
  createSandboxTokenProvider,
  randomId,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  type SandboxMailTenant,
} from '@mailroute/testing';
import { Metadata, Status, type ClientError } from 'nice-grpc';
import { composeMailboxFetch, type ComposedMailboxFetch } from './compose';
import { mailboxKey } from './store/mailbox-fetch.records';
import { openMongoStores, type MailboxFetchStores } from './store/mailbox-fetch.stores';

/**
 * Post-processing through the running service: the composition root (gRPC server, sync runtime,
 * Graph client) on FerretDB, against the graph sandbox over HTTPS, configured over gRPC.
 */
describe('mailbox-fetch post-processing through the running service', () => {
  const logger = createLogger({
    name: 'post-processing-test',
    level: (process.env['MF_TEST_LOG'] as 'info' | undefined) ?? 'silent',
  });
  const tenantId = randomId('tenant');
  const apiKey = `mrk_${randomId('key')}`;
  const as = { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) };
  const tenants = new Map<string, SandboxMailTenant>();
  let started: Awaited<ReturnType<typeof startTestGraphSandbox>>;
  let sandbox: SandboxMailTenant;
  let stores: MailboxFetchStores;
  let service: ComposedMailboxFetch;
  let client: ReturnType<typeof createGrpcClient<typeof MailboxFetchServiceDefinition>>;

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: 5 });
    tenants.set(tenantId, sandbox);
    stores = await openMongoStores({ url: testInfra().mongoUrl, database: randomId('mf-post') });
    service = composeMailboxFetch(
      { stores, bus: new InProcessEventBus(), tokens: createSandboxTokenProvider(started.endpoints, tenants), logger },
      {
        replicaId: 'post-processing-test',
        apiKeys: [{ id: 'k', tenantId, scopes: ['mailboxes.read', 'mailboxes.write'], sha256: hashBearerCredential(apiKey) }],
        runtime: {
          leaseTtlMs: 10_000,
          scanIntervalMs: 300,
          pollIntervalCapMs: 300,
          errorBackoffBaseMs: 200,
          errorBackoffMaxMs: 1_000,
        },
      },
    );
    await service.start();
    client = createGrpcClient(MailboxFetchServiceDefinition, `127.0.0.1:${await service.server.listen('127.0.0.1', 0)}`, {
      deadlineMs: 30_000,
    });
  });

  afterAll(async () => {
    client?.close();
    await service?.stop();
    await service?.server.shutdown(1_000);
    await stores?.close();
    await started?.sandbox.stop();
  });

  const address = (box: number) => sandbox.mailboxes[box] ?? '';
  const folders = async (box: number) => (await started.endpoints.admin.folders(sandbox.directoryId, address(box))).value;
  const folderId = async (box: number, wellKnownName: string) =>
    (await folders(box)).find((folder) => folder.wellKnownName === wellKnownName)?.id ?? '';
  const messagesIn = async (box: number, folder: string) =>
    (await started.endpoints.admin.folderMessages(sandbox.directoryId, address(box), folder)).value;
  const moving = (moveTo: FolderRef['folder']) => ({
    action: PostProcessingAction.POST_PROCESSING_ACTION_MOVE,
    moveTo: { folder: moveTo },
  });

  it('refuses Deleted Items and Recoverable Items as a move target however they are named, on create and on update', async () => {
    // A folder inside Deleted Items, made the way a person would (through Graph).
    const graph = createGraphMailClient({ tokens: createSandboxTokenProvider(started.endpoints, tenants) });
    const inside = await graph
      .mailbox({ tenantId, address: address(0), principal: { kind: 'app-only', credentialsId: 'default' } })
      .resolveFolderPath('Deleted Items/Old cases', true);
    const forms: [string, FolderRef['folder']][] = [
      ['well-known name deleteditems', { $case: 'wellKnownName', value: 'deleteditems' }],
      ['well-known name recoverableitemsdeletions', { $case: 'wellKnownName', value: 'RecoverableItemsDeletions' }],
      ['path "Deleted Items"', { $case: 'path', value: 'Deleted Items' }],
      ['path "deleted items" (another case)', { $case: 'path', value: 'deleted items' }],
      ['path into Deleted Items, not there yet', { $case: 'path', value: 'Deleted Items/Processed' }],
      ['path of an existing folder inside Deleted Items', { $case: 'path', value: 'Deleted Items/Old cases' }],
      ['id of Deleted Items', { $case: 'folderId', value: await folderId(0, 'deleteditems') }],
      ['id of Recoverable Items', { $case: 'folderId', value: await folderId(0, 'recoverableitemsroot') }],
      ['id of Recoverable Items/Deletions', { $case: 'folderId', value: await folderId(0, 'recoverableitemsdeletions') }],
      ['id of Recoverable Items/Purges', { $case: 'folderId', value: await folderId(0, 'recoverableitemspurges') }],
      ['id of a folder inside Deleted Items', { $case: 'folderId', value: inside?.id ?? '' }],
      ['id of Sent Items', { $case: 'folderId', value: await folderId(0, 'sentitems') }],
    ];
    const outcomes = [];
    for (const [form, folder] of forms) {
      for (const action of [
        PostProcessingAction.POST_PROCESSING_ACTION_MOVE,
        PostProcessingAction.POST_PROCESSING_ACTION_MARK_READ_AND_MOVE,
      ]) {
        const error = (await client.client
          .createMailbox(
            {
              mailboxId: 'refused',
              mailbox: Mailbox.fromPartial({ address: address(0), postProcessing: { action, moveTo: { folder } } }),
            },
            as,
          )
          .catch((e: unknown) => e)) as ClientError;
        outcomes.push({ form, action, code: error.code, details: error.details });
      }
    }
    expect(outcomes).toEqual(
      forms.flatMap(([form]) =>
        [PostProcessingAction.POST_PROCESSING_ACTION_MOVE, PostProcessingAction.POST_PROCESSING_ACTION_MARK_READ_AND_MOVE].map(
          (action) => ({
            form,
            action,
            code: Status.INVALID_ARGUMENT,
            details: expect.stringContaining('mailbox.post_processing.move_to'),
          }),
        ),
      ),
    );
    // An update is checked the same way, and leaves the mailbox as it was.
    await client.client.createMailbox(
      {
        mailboxId: 'update-me',
        mailbox: Mailbox.fromPartial({ address: address(0), postProcessing: moving({ $case: 'path', value: 'Done' }) }),
      },
      as,
    );
    const update = (await client.client
      .updateMailbox(
        {
          mailboxId: 'update-me',
          mailbox: Mailbox.fromPartial({
            postProcessing: moving({ $case: 'folderId', value: await folderId(0, 'deleteditems') }),
          }),
          updateMask: ['post_processing'],
        },
        as,
      )
      .catch((e: unknown) => e)) as ClientError;
    expect({ code: update.code, details: update.details }).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: expect.stringContaining('mailbox.post_processing.move_to'),
    });
    expect((await client.client.getMailbox({ mailboxId: 'update-me' }, as)).mailbox?.postProcessing?.moveTo).toEqual({
      folder: { $case: 'path', value: 'Done' },
    });
    await client.client.deleteMailbox({ mailboxId: 'update-me' }, as);
    // A target that cannot be checked (no such mailbox in Graph) is refused as a precondition, not an internal error.
    const unchecked = (await client.client
      .createMailbox(
        {
          mailboxId: 'ghost',
          mailbox: Mailbox.fromPartial({
            address: `ghost@${sandbox.domain}`,
            postProcessing: moving({ $case: 'path', value: 'Done' }),
          }),
        },
        as,
      )
      .catch((e: unknown) => e)) as ClientError;
    expect({ code: unchecked.code, details: unchecked.details }).toEqual({
      code: Status.FAILED_PRECONDITION,
      details: expect.stringContaining('move_to cannot be checked'),
    });
    // A folder that only looks like one is fine: "Deleted Items Archive" at the top level.
    await client.client.createMailbox(
      {
        mailboxId: 'lookalike',
        mailbox: Mailbox.fromPartial({
          address: address(4),
          postProcessing: moving({ $case: 'path', value: 'Deleted Items Archive' }),
        }),
      },
      as,
    );
    await client.client.deleteMailbox({ mailboxId: 'lookalike' }, as);
  });

  it('applies MOVE, MARK_READ_AND_MOVE and LEAVE as configured, and never moves into Deleted Items even when a stored configuration names it', async () => {
    const perMailbox = 4;
    await client.client.createMailbox(
      {
        mailboxId: 'move',
        mailbox: Mailbox.fromPartial({ address: address(1), postProcessing: moving({ $case: 'path', value: 'Handled/Moved' }) }),
      },
      as,
    );
    await client.client.createMailbox(
      {
        mailboxId: 'read-move',
        mailbox: Mailbox.fromPartial({
          address: address(2),
          postProcessing: {
            action: PostProcessingAction.POST_PROCESSING_ACTION_MARK_READ_AND_MOVE,
            moveTo: { folder: { $case: 'wellKnownName', value: 'archive' } },
          },
        }),
      },
      as,
    );
    await client.client.createMailbox(
      {
        mailboxId: 'leave',
        mailbox: Mailbox.fromPartial({
          address: address(3),
          postProcessing: { action: PostProcessingAction.POST_PROCESSING_ACTION_LEAVE },
        }),
      },
      as,
    );
    // A configuration that names Deleted Items by path, stored before the guard existed.
    await client.client.createMailbox(
      {
        mailboxId: 'legacy',
        mailbox: Mailbox.fromPartial({ address: address(4), postProcessing: moving({ $case: 'path', value: 'Later' }) }),
      },
      as,
    );
    const legacyKey = mailboxKey(tenantId, 'legacy');
    const legacy = await stores.mailboxes.get(legacyKey);
    if (!legacy) throw new Error('legacy mailbox not stored');
    await stores.mailboxes.put(legacyKey, { ...legacy, moveTo: { path: 'Deleted Items' } });

    await waitFor(
      async () =>
        (await client.client.listSyncStatuses({ page: { pageSize: 10, pageToken: '' } }, as)).statuses.every(
          (s) => s.lastSuccessfulSyncAt !== undefined,
        ),
      {
        timeoutMs: 30_000,
        description: 'first sync of every mailbox',
      },
    );
    for (const box of [1, 2, 3, 4]) {
      await started.endpoints.admin.deliverBulk(
        sandbox.directoryId,
        address(box),
        Array.from({ length: perMailbox }, (_, i) => ({ from: 'c@example.org', subject: `post ${box}-${i}` })),
      );
    }
    const ingested = async (mailboxId: string) =>
      (await client.client.getSyncStatus({ mailboxId }, as)).status?.messagesIngestedTotal;
    await waitFor(
      async () =>
        (await Promise.all(['move', 'read-move', 'leave', 'legacy'].map(ingested))).every((count) => count === perMailbox),
      { timeoutMs: 60_000, description: 'all ingested' },
    );

    const moved = async () => {
      const handled = (await folders(1)).find((folder) => folder.displayName === 'Handled');
      const target = (await folders(1)).find((folder) => folder.displayName === 'Moved' && folder.parentFolderId === handled?.id);
      return target ? messagesIn(1, target.id) : [];
    };
    await waitFor(async () => (await moved()).length === perMailbox, { timeoutMs: 30_000, description: 'MOVE applied' });
    await waitFor(async () => (await messagesIn(2, 'archive')).length === perMailbox, {
      timeoutMs: 30_000,
      description: 'MARK_READ_AND_MOVE applied',
    });
    // The legacy mailbox's moves were tried (and refused) at least once: its work is still pending.
    await waitFor(
      async () =>
        (await stores.postProcessing.list({ prefix: `${legacyKey}/`, limit: 100 })).some((entry) => entry.document.attempts > 0),
      {
        timeoutMs: 30_000,
        description: 'legacy moves attempted',
      },
    );

    expect({
      move: { inbox: (await messagesIn(1, 'inbox')).length, moved: (await moved()).map((m) => m.isRead) },
      readAndMove: {
        inbox: (await messagesIn(2, 'inbox')).length,
        archive: (await messagesIn(2, 'archive')).map((m) => m.isRead),
      },
      leave: { inbox: (await messagesIn(3, 'inbox')).map((m) => m.isRead) },
      legacy: { inbox: (await messagesIn(4, 'inbox')).length, deletedItems: (await messagesIn(4, 'deleteditems')).length },
    }).toEqual({
      move: { inbox: 0, moved: Array.from({ length: perMailbox }, () => false) },
      readAndMove: { inbox: 0, archive: Array.from({ length: perMailbox }, () => true) },
      leave: { inbox: Array.from({ length: perMailbox }, () => false) },
      legacy: { inbox: perMailbox, deletedItems: 0 },
    });
  });
});
