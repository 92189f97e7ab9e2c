import { Status, type ClientError } from 'nice-grpc';
import {
  AgentDesktopServiceDefinition,
  AgentPresence,
  InteractionRouterServiceDefinition,
  TemplateKind,
  type ConnectResponse,
} from '@mailroute/contracts';
import { randomId, testInfra, waitFor } from '@mailroute/testing';
import { createTestIdentityProvider, startHarness, type Harness } from '../test/router-harness';

/**
 * Tenant walls, generated from the service definitions: every RPC of InteractionRouterService and
 * AgentDesktopService is called by tenant A's caller (API key / agent token) with tenant B's object
 * ids in every id field. A call naming B's object as its subject must be NOT_FOUND; every other call
 * may succeed or fail, but no response or error carries any of B's data; afterwards B's objects are
 * unchanged. Real gRPC clients over a socket, real Kafka and FerretDB.
 */
const marker = 'zzbmarker';
const slow = { timeoutMs: 60_000, intervalMs: 100 };

interface Method {
  service: 'admin' | 'desktop';
  name: string;
  key: string;
  requestType: { fromPartial(value: unknown): object };
  requestStream: boolean;
  responseStream: boolean;
}

const methods: Method[] = [
  ...Object.entries(InteractionRouterServiceDefinition.methods).map(([key, m]) => ({
    service: 'admin' as const,
    key,
    ...(m as unknown as Omit<Method, 'service' | 'key'>),
  })),
  ...Object.entries(AgentDesktopServiceDefinition.methods).map(([key, m]) => ({
    service: 'desktop' as const,
    key,
    ...(m as unknown as Omit<Method, 'service' | 'key'>),
  })),
];
const isCreate = (m: Method) => /^Create/.test(m.name);
/** Creating an object with B's id in A's tenant must work (separate namespaces), so creates run last. */
const ordered = [...methods.filter((m) => !isCreate(m)), ...methods.filter(isCreate)];
const singularIdFields = [
  'queueId',
  'ruleId',
  'senderListId',
  'agentId',
  'interactionId',
  'offerId',
  'attachmentId',
  'mailboxId',
] as const;

describe('tenant isolation over every RPC', () => {
  const tenantA = randomId('tenant-iso-a');
  const tenantB = randomId('tenant-iso-b');
  const dirA = randomId('dir-iso-a');
  const dirB = randomId('dir-iso-b');
  let harness: Harness;
  let tokenA = '';
  const b = {
    queueId: 'q-b',
    ruleId: 'r-b',
    senderListId: 'sl-b',
    agentId: 'agent-b',
    interactionId: '',
    offeredInteractionId: '',
    offerId: '',
  };
  const abortB = new AbortController();
  let before: unknown;

  /** Everything of B as B's own admin sees it. */
  async function snapshotB(): Promise<unknown> {
    const admin = harness.admin(tenantB);
    const interactions = await Promise.all(
      [b.interactionId, b.offeredInteractionId].map(async (interactionId) => {
        const { interaction } = await admin.getInteraction({ interactionId });
        const history = await admin.listInteractionHistory({ interactionId });
        return {
          state: interaction?.state,
          version: interaction?.version,
          agentId: interaction?.agentId,
          offeredAgentId: interaction?.offeredAgentId,
          queueId: interaction?.queueId,
          history: history.entries.length,
        };
      }),
    );
    const agent = (await admin.getAgent({ agentId: b.agentId })).agent;
    return {
      queue: (await admin.getQueue({ queueId: b.queueId })).queue,
      rule: (await admin.getRoutingRule({ ruleId: b.ruleId })).rule,
      senderList: (await admin.getSenderList({ senderListId: b.senderListId })).senderList,
      mailboxSettings: (await admin.getMailboxSettings({ mailboxId: 'b-mailbox' })).settings,
      agent: { ...agent, presence: undefined, updatedAt: undefined },
      queues: (await admin.listQueues({})).queues.map((q) => q.queueId),
      agents: (await admin.listAgents({})).agents.map((a) => a.agentId),
      rules: (await admin.listRoutingRules({})).rules.map((r) => r.ruleId),
      interactions,
    };
  }

  beforeAll(async () => {
    const idp = await createTestIdentityProvider(
      new Map([
        [dirA, tenantA],
        [dirB, tenantB],
      ]),
    );
    harness = await startHarness({
      infra: testInfra(),
      replicas: 1,
      tenants: [tenantA, tenantB],
      verifier: idp.verifier,
    });
    const adminA = harness.admin(tenantA);
    const adminB = harness.admin(tenantB);
    await adminA.createQueue({ queueId: 'q-a', queue: { displayName: 'A queue' } });
    await adminA.createAgent({
      agentId: 'agent-a',
      agent: { displayName: 'A agent', entraObjectId: 'oid-a', queueIds: ['q-a'], capacity: 2, skills: [] },
    });
    await adminB.createTemplate({
      templateId: 'shared-ack',
      template: { displayName: `B ack ${marker}`, kind: TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT, text: marker } as never,
    });
    await adminB.createQueue({
      queueId: b.queueId,
      queue: {
        displayName: `B queue ${marker}`,
        offerTimeout: { seconds: 600, nanos: 0 },
        acknowledgement: { templateId: 'shared-ack' },
      } as never,
    });
    await adminB.createSenderList({
      senderListId: b.senderListId,
      senderList: { displayName: `B vips ${marker}`, entries: [`vip-${marker}@b.test`] },
    });
    await adminB.createRoutingRule({
      ruleId: b.ruleId,
      rule: {
        displayName: `B rule ${marker}`,
        condition: { subjectPatterns: [{ pattern: { $case: 'contains', value: marker } }] },
        action: { action: { $case: 'route', value: { queueId: b.queueId, priority: 100, requiredSkills: [], tags: [marker] } } },
      },
    });
    await adminB.createMailboxSettings({ mailboxId: 'b-mailbox', settings: {} });
    // A template file of B's, named with the marker: ListTemplateAttachments of A must not show it.
    await adminB.uploadTemplateAttachment(
      (async function* () {
        const content = Buffer.from(`${marker} notes`);
        yield {
          part: {
            $case: 'metadata' as const,
            value: { name: `${marker}.txt`, contentType: 'text/plain', sizeBytes: content.length, sha256: '' },
          },
        };
        yield { part: { $case: 'chunk' as const, value: content } };
      })(),
    );
    await adminB.createAgent({
      agentId: b.agentId,
      agent: { displayName: `B agent ${marker}`, entraObjectId: 'oid-b', queueIds: [b.queueId], capacity: 5, skills: [] },
    });
    tokenA = await idp.token(dirA, 'oid-a');

    // B's agent on its stream: one interaction accepted (ASSIGNED), one left OFFERED.
    const tokenB = await idp.token(dirB, 'oid-b');
    const received: ConnectResponse[] = [];
    void (async () => {
      try {
        for await (const m of harness.desktop(tokenB).connect({ clientInstanceId: 'b-desk' }, { signal: abortB.signal }))
          received.push(m);
      } catch {
        // ends with the test
      }
    })();
    await waitFor(() => received.some((m) => m.event?.$case === 'snapshot'), slow);
    b.interactionId = randomId('ix-b');
    b.offeredInteractionId = randomId('ix-b');
    for (const interactionId of [b.interactionId, b.offeredInteractionId]) {
      await harness.publishInbound({
        tenantId: tenantB,
        interactionId,
        mailboxId: 'b-mailbox',
        message: {
          subject: `Private ${marker}`,
          conversationId: `conv-${interactionId}`,
          graphMessageId: `g-${interactionId}`,
          bodyText: `secret ${marker}`,
          from: { address: `customer-${marker}@b.test`, name: marker },
        } as never,
      });
    }
    const offerOf = (interactionId: string) =>
      waitFor(() => {
        for (const m of received)
          if (m.event?.$case === 'offer' && m.event.value.interaction?.interactionId === interactionId)
            return m.event.value.offerId;
        return undefined;
      }, slow);
    await harness.desktop(tokenB).accept({ offerId: await offerOf(b.interactionId) });
    b.offerId = await offerOf(b.offeredInteractionId);
    before = await snapshotB();
  });

  afterAll(async () => {
    abortB.abort();
    await harness?.close();
  });

  /** A request of the method with B's ids in every id field, and valid payloads so that validation is not what stops it. */
  function requestFor(method: Method): object {
    const settingsMethod = /MailboxSettings$/.test(method.name);
    return method.requestType.fromPartial({
      queueId: b.queueId,
      ruleId: b.ruleId,
      senderListId: b.senderListId,
      agentId: b.agentId,
      interactionId: b.interactionId,
      offerId: b.offerId,
      attachmentId: 'att-1',
      ruleIds: [b.ruleId],
      queue: { displayName: 'copy' },
      rule: {
        displayName: 'copy',
        condition: {},
        action: { action: { $case: 'route', value: { queueId: 'q-a', priority: 1, requiredSkills: [], tags: [] } } },
      },
      senderList: { displayName: 'copy', entries: ['x@a.test'] },
      agent: { displayName: 'copy', entraObjectId: 'oid-copy', queueIds: [], capacity: 1, skills: [] },
      updateMask: settingsMethod ? ['signature_template_id'] : ['display_name'],
      settings: { signatureTemplateId: '' },
      presence: AgentPresence.AGENT_PRESENCE_BUSY,
      target: { target: { $case: 'agentId', value: b.agentId } },
      idempotencyKey: 'iso-key',
      content: { subject: '', bodyText: 'hello', bodyHtml: '', to: [], cc: [], bcc: [], attachments: [], importance: 0 },
      clientInstanceId: 'iso-desk',
      mailboxId: 'b-mailbox',
      message: { subject: `Private ${marker}` },
      filter: { queueIds: [b.queueId], agentIds: [b.agentId], interactionIds: [b.interactionId] },
      dispositionCode: 'x',
      note: '',
      reason: '',
    });
  }

  /** Whether the method's subject is one of B's objects: an id field named after what the method acts on. */
  function namesB(method: Method, request: object): boolean {
    if (isCreate(method)) return false;
    const rest = method.name
      .replace(/^(Get|Update|Delete|Set|List|Search|Assign|Transfer|Complete|Accept|Decline|Reply|Download|Upload|Connect)/, '')
      .replace(/^My/, '');
    return singularIdFields.some((field) => {
      const value = (request as Record<string, unknown>)[field];
      if (typeof value !== 'string' || value === '' || value === 'att-1') return false;
      const object = field.replace(/Id$/, '');
      // An attachment is reached through its interaction.
      return (
        rest === '' ||
        rest.toLowerCase().includes(object.toLowerCase()) ||
        (field === 'interactionId' && rest.startsWith('Attachment'))
      );
    });
  }

  async function call(method: Method, request: object): Promise<{ response?: unknown; error?: ClientError }> {
    const client = (method.service === 'admin' ? harness.admin(tenantA) : harness.desktop(tokenA)) as unknown as Record<
      string,
      (...args: unknown[]) => unknown
    >;
    const invoke = client[method.key];
    if (!invoke) throw new Error(`client has no ${method.key}`);
    try {
      if (method.responseStream) {
        const first: unknown[] = [];
        // The first message (a Connect snapshot) is enough; leaving the loop cancels the call.
        for await (const message of invoke.call(client, request) as AsyncIterable<unknown>) {
          first.push(message);
          break;
        }
        return { response: first };
      }
      if (method.requestStream) {
        return {
          response: await invoke.call(
            client,
            (async function* () {
              yield request;
            })(),
          ),
        };
      }
      return { response: await invoke.call(client, request) };
    } catch (error) {
      return { error: error as ClientError };
    }
  }

  it.each(
    ordered.map((m) => [`${m.service === 'admin' ? 'InteractionRouterService' : 'AgentDesktopService'}.${m.name}`, m] as const),
  )('%s: tenant A reaches nothing of tenant B', async (_label, method) => {
    const request = requestFor(method);
    const { response, error } = await call(method, request);
    // Responses carry nothing of B; error messages may echo the id asked for, never B's data.
    const answered = JSON.stringify(response ?? {});
    for (const secret of [marker, b.interactionId, b.offeredInteractionId, tenantB]) expect(answered).not.toContain(secret);
    // B's mailbox id is B's data unless it is the id this method was asked for (Get/Update/DeleteMailboxSettings).
    const askedForMailbox = namesB(method, request) && /Mailbox/.test(method.name);
    for (const secret of [marker, tenantB, ...(askedForMailbox ? [] : ['b-mailbox'])])
      expect(error?.details ?? '').not.toContain(secret);
    if (namesB(method, request)) {
      expect({ method: method.name, code: error?.code }).toEqual({ method: method.name, code: Status.NOT_FOUND });
    } else if (isCreate(method)) {
      // A's own namespace: B's ids are free there.
      expect({ method: method.name, code: error?.code }).not.toEqual({ method: method.name, code: Status.ALREADY_EXISTS });
    } else if (error) {
      expect([
        Status.NOT_FOUND,
        Status.INVALID_ARGUMENT,
        Status.FAILED_PRECONDITION,
        Status.UNIMPLEMENTED,
        Status.CANCELLED,
      ]).toContain(error.code);
    }
  });

  it("deletes A's template whatever B's queues name: B's references neither block nor show", async () => {
    const adminA = harness.admin(tenantA);
    await adminA.createTemplate({
      templateId: 'shared-ack',
      template: { displayName: 'A ack', kind: TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT, text: 'Thanks.' } as never,
    });
    await adminA.createQueue({
      queueId: 'q-a-acked',
      queue: { displayName: 'A acked', acknowledgement: { templateId: 'shared-ack' } } as never,
    });
    const refused = await adminA.deleteTemplate({ templateId: 'shared-ack', etag: '' }).catch((e: ClientError) => e);
    expect(refused).toMatchObject({
      code: Status.FAILED_PRECONDITION,
      details: 'template shared-ack is still used by queues q-a-acked: change those first',
    });
    await adminA.deleteQueue({ queueId: 'q-a-acked', etag: '' });
    await adminA.deleteTemplate({ templateId: 'shared-ack', etag: '' });
    expect((await harness.admin(tenantB).getTemplate({ templateId: 'shared-ack' })).template?.displayName).toBe(
      `B ack ${marker}`,
    );
  });

  it('leaves every object of tenant B as it was', async () => {
    expect(await snapshotB()).toEqual(before);
  });

  it('covers every method of both services', () => {
    const names = methods.map((m) => m.name);
    expect(names).toHaveLength(
      Object.keys(InteractionRouterServiceDefinition.methods).length + Object.keys(AgentDesktopServiceDefinition.methods).length,
    );
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    // The subject rule is exercised: most methods that act on one object must have answered NOT_FOUND.
    const subjects = methods.filter((m) => namesB(m, requestFor(m))).map((m) => m.name);
    expect(subjects).toEqual(
      expect.arrayContaining(['GetRoutingRule', 'DeleteRoutingRule', 'GetInteraction', 'Accept', 'Reply', 'DownloadAttachment']),
    );
    expect(subjects.length).toBeGreaterThanOrEqual(28);
  });
});
