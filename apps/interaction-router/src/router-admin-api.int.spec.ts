import { Status, type ClientError } from 'nice-grpc';
import {
  ActorKind,
  Agent,
  AgentPresence,
  InteractionState,
  RoutingRule,
  type ConnectResponse,
  type InteractionRouterServiceClient,
} from '@mailroute/contracts';
import { randomId, testInfra, waitFor } from '@mailroute/testing';
import { createConfigRepository } from './routing/config-repository';
import { createTestIdentityProvider, startHarness, type Harness } from '../test/router-harness';

/**
 * The workload-manager API's rule testing, rule positions, unique agent sign-in identities, agent
 * sign-in right after creation, and presence across replicas: two router replicas on real Kafka,
 * FerretDB and gRPC over sockets.
 */
const slow = { timeoutMs: 60_000, intervalMs: 100 };

function collect(stream: AsyncIterable<ConnectResponse>) {
  const received: ConnectResponse[] = [];
  let error: ClientError | undefined;
  let ended = false;
  const done = (async () => {
    try {
      for await (const message of stream) received.push(message);
    } catch (caught) {
      error = caught as ClientError;
    } finally {
      ended = true;
    }
  })();
  return {
    received,
    done,
    error: () => error,
    ended: () => ended,
    of: <C extends NonNullable<ConnectResponse['event']>['$case']>(kind: C) =>
      received.flatMap((m) =>
        m.event?.$case === kind ? [m.event.value as Extract<NonNullable<ConnectResponse['event']>, { $case: C }>['value']] : [],
      ),
  };
}

/** Waits for `probe` on a live stream; a stream that ended instead fails at once with its status. */
async function onStream<T>(stream: ReturnType<typeof collect>, probe: () => T): Promise<Exclude<T, false | undefined>> {
  const result = await waitFor(
    () =>
      stream.ended()
        ? { ended: true as const }
        : ((value) => (value === undefined || value === false ? undefined : { value }))(probe()),
    slow,
  );
  if ('ended' in result)
    throw new Error(`the stream ended early: ${stream.error()?.code ?? 'OK'} ${stream.error()?.details ?? ''}`);
  return result.value as Exclude<T, false | undefined>;
}

async function failure(call: Promise<unknown>): Promise<{ code: Status | undefined; details: string }> {
  const error = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as ClientError | undefined;
  return { code: error?.code, details: error?.details ?? '' };
}

const routeTo = (
  queueId: string,
  extra: { priority?: number; skills?: { skill: string; minLevel: number }[]; tags?: string[] } = {},
) => ({
  action: {
    $case: 'route' as const,
    value: {
      queueId,
      ...(extra.priority === undefined ? {} : { priority: extra.priority }),
      requiredSkills: extra.skills ?? [],
      tags: extra.tags ?? [],
    },
  },
});
const catchAll = (ruleId: string, queueId = 'general'): RoutingRule =>
  RoutingRule.fromPartial({ ruleId, displayName: ruleId, condition: {}, action: routeTo(queueId) });

describe('interaction-router workload-manager API on two replicas', () => {
  const directory = randomId('dir-api');
  const tenants = {
    rules: randomId('t-rules'),
    order: randomId('t-order'),
    legacy: randomId('t-legacy'),
    agents: randomId('t-agents'),
    presence: randomId('t-presence'),
  };
  let idp: Awaited<ReturnType<typeof createTestIdentityProvider>>;
  let harness: Harness;
  const dirs = Object.fromEntries(Object.values(tenants).map((tenant) => [tenant, `${directory}-${tenant}`]));
  const streams: AbortController[] = [];

  beforeAll(async () => {
    idp = await createTestIdentityProvider(new Map(Object.values(tenants).map((tenant) => [dirs[tenant] ?? '', tenant])));
    harness = await startHarness({
      infra: testInfra(),
      replicas: 2,
      tenants: Object.values(tenants),
      verifier: idp.verifier,
      // No case here waits for a desktop session to lapse; a short TTL only let a late refresh on a busy
      // machine sign the agent out in the middle of 'presence across replicas' (setPresence answered OFFLINE).
      sessionTtlMs: 30_000,
    });
  });

  afterAll(async () => {
    streams.forEach((stream) => stream.abort());
    await harness?.close();
  });

  const token = (tenant: string, oid: string) => idp.token(dirs[tenant] ?? '', oid);

  describe('TestRoutingRules', () => {
    let admin: InteractionRouterServiceClient;
    const invoiceSample = {
      from: { address: 'Jane@Fabrikam.com', name: 'Jane' },
      subject: 'Invoice 42 is wrong',
      bodyText: 'Please fix it',
      to: [],
      cc: [],
    };

    beforeAll(async () => {
      admin = harness.admin(tenants.rules);
      await admin.createQueue({
        queueId: 'billing',
        queue: { displayName: 'Billing', requiredSkills: [{ skill: 'finance', minLevel: 1 }] },
      });
      await admin.createQueue({ queueId: 'vip', queue: { displayName: 'VIP' } });
      await admin.createSenderList({
        senderListId: 'northwind',
        senderList: { displayName: 'Northwind', entries: ['@northwind.com'] },
      });
      await admin.createRoutingRule({
        ruleId: 'vips',
        rule: { displayName: 'VIPs', condition: { senderListIds: ['northwind'] }, action: routeTo('vip', { priority: 900 }) },
      });
      await admin.createRoutingRule({
        ruleId: 'off',
        rule: { displayName: 'Off', enabled: false, condition: {}, action: routeTo('vip') },
      });
      await admin.createRoutingRule({
        ruleId: 'automated',
        rule: {
          displayName: 'Automated',
          condition: { automated: true },
          action: { action: { $case: 'discard', value: { reason: 'automated mail' } } },
        },
      });
      await admin.createRoutingRule({
        ruleId: 'invoices',
        rule: {
          displayName: 'Invoices',
          condition: { subjectPatterns: [{ pattern: { $case: 'regex', value: 'invoice\\s+\\d+' } }] },
          action: routeTo('billing', { skills: [{ skill: 'german', minLevel: 2 }], tags: ['invoice'] }),
        },
      });
    });

    it('explains which rule matches a sample, with the outcome intake then applies', async () => {
      const answer = await admin.testRoutingRules({ mailboxId: 'support', message: invoiceSample as never });
      expect(answer).toEqual({
        evaluations: [
          { ruleId: 'vips', matched: false, disabled: false, failedCondition: 'sender_list_ids' },
          { ruleId: 'off', matched: false, disabled: true, failedCondition: '' },
          { ruleId: 'automated', matched: false, disabled: false, failedCondition: 'automated' },
          { ruleId: 'invoices', matched: true, disabled: false, failedCondition: '' },
        ],
        matchedRuleId: 'invoices',
        outcome: routeTo('billing', { priority: 100, skills: [{ skill: 'german', minLevel: 2 }], tags: ['invoice'] }),
        requiredSkills: [
          { skill: 'finance', minLevel: 1 },
          { skill: 'german', minLevel: 2 },
        ],
      });
      // Intake routes the same e-mail the same way.
      const interactionId = randomId('ix');
      await harness.publishInbound({
        tenantId: tenants.rules,
        interactionId,
        message: { ...invoiceSample, conversationId: `conv-${interactionId}`, graphMessageId: `g-${interactionId}` } as never,
      });
      // The first e-mail after two replicas start may wait out their consumer group's rebalance on a loaded machine.
      const routed = await waitFor(
        async () => {
          const got = (await admin.getInteraction({ interactionId }).catch(() => undefined))?.interaction;
          return got?.state === InteractionState.INTERACTION_STATE_QUEUED ? got : undefined;
        },
        { ...slow, timeoutMs: 150_000 },
      );
      expect({
        queueId: routed.queueId,
        priority: routed.priority,
        tags: routed.tags,
        requiredSkills: routed.requiredSkills,
      }).toEqual({
        queueId: 'billing',
        priority: 100,
        tags: ['invoice'],
        requiredSkills: answer.requiredSkills,
      });
    });

    it('answers a discard, a VIP route and an unroutable sample, and stores nothing', async () => {
      const discard = await admin.testRoutingRules({
        mailboxId: 'support',
        message: { ...invoiceSample, automation: { autoReply: true } } as never,
      });
      expect(discard).toMatchObject({
        matchedRuleId: 'automated',
        outcome: { action: { $case: 'discard', value: { reason: 'automated mail' } } },
        requiredSkills: [],
      });
      const vip = await admin.testRoutingRules({
        mailboxId: 'support',
        message: { ...invoiceSample, from: { address: 'ceo@northwind.com', name: '' } } as never,
      });
      expect(vip).toMatchObject({
        matchedRuleId: 'vips',
        outcome: routeTo('vip', { priority: 900 }),
        evaluations: [{ ruleId: 'vips', matched: true }],
      });
      const none = await admin.testRoutingRules({
        mailboxId: 'support',
        message: { ...invoiceSample, subject: 'Hello there' } as never,
      });
      expect(none.matchedRuleId).toBe('');
      expect(none.outcome).toBeUndefined();
      expect(none.evaluations.map((e) => e.ruleId)).toEqual(['vips', 'off', 'automated', 'invoices']);
      expect((await admin.searchInteractions({ filter: { subjectContains: 'Hello there' } as never })).interactions).toEqual([]);
    });

    it('reflects a rule change made through the other replica at once', async () => {
      await harness
        .admin(tenants.rules, 1)
        .updateRoutingRule({ ruleId: 'invoices', rule: { enabled: false } as never, updateMask: ['enabled'] });
      const answer = await admin.testRoutingRules({ mailboxId: 'support', message: invoiceSample as never });
      expect(answer.matchedRuleId).toBe('');
      expect(answer.evaluations.find((e) => e.ruleId === 'invoices')).toMatchObject({ disabled: true });
      await harness
        .admin(tenants.rules, 1)
        .updateRoutingRule({ ruleId: 'invoices', rule: { enabled: true } as never, updateMask: ['enabled'] });
    });

    it('answers a malformed sample with INVALID_ARGUMENT naming the field', async () => {
      const cases: [object, string][] = [
        [{ mailboxId: '', message: invoiceSample }, 'mailbox_id'],
        [{ mailboxId: 'support' }, 'message'],
        [{ mailboxId: 'support', message: { ...invoiceSample, from: undefined } }, 'message.from.address'],
        [{ mailboxId: 'support', message: { ...invoiceSample, subject: '' } }, 'message.subject'],
        [{ mailboxId: 'support', message: { ...invoiceSample, to: [{ address: 'nope', name: '' }] } }, 'message.to[0].address'],
      ];
      for (const [request, field] of cases) {
        const { code, details } = await failure(admin.testRoutingRules(request as never));
        expect({ field, code }).toEqual({ field, code: Status.INVALID_ARGUMENT });
        expect(details.startsWith(`${field}:`)).toBe(true);
      }
    });
  });

  describe('routing rule positions', () => {
    const listed = async (admin: InteractionRouterServiceClient) =>
      (await admin.listRoutingRules({})).rules.map((r) => [r.ruleId, r.position]);

    it('numbers rules 0, 1, 2 …, inserts at a 0-based position and reorders, on both replicas alike', async () => {
      const admin = harness.admin(tenants.order);
      await admin.createQueue({ queueId: 'general', queue: { displayName: 'General' } });
      for (const id of ['a', 'b', 'c'])
        expect((await admin.createRoutingRule({ ruleId: id, rule: catchAll(id) })).rule?.position).toBe(
          ['a', 'b', 'c'].indexOf(id),
        );
      expect((await admin.createRoutingRule({ ruleId: 'x', rule: catchAll('x'), position: 1 })).rule?.position).toBe(1);
      expect((await admin.createRoutingRule({ ruleId: 'y', rule: catchAll('y'), position: 99 })).rule?.position).toBe(4);
      expect((await admin.createRoutingRule({ ruleId: 'z', rule: catchAll('z'), position: 0 })).rule?.position).toBe(0);
      expect(await listed(admin)).toEqual([
        ['z', 0],
        ['a', 1],
        ['x', 2],
        ['b', 3],
        ['c', 4],
        ['y', 5],
      ]);
      expect(await listed(harness.admin(tenants.order, 1))).toEqual(await listed(admin));
      // Evaluation follows the same order: the first catch-all wins.
      expect(
        (
          await admin.testRoutingRules({
            mailboxId: 'support',
            message: { from: { address: 'a@b.test', name: '' }, subject: 's' } as never,
          })
        ).matchedRuleId,
      ).toBe('z');

      expect((await admin.reorderRoutingRules({ ruleIds: ['c', 'b', 'y', 'x', 'a', 'z'] })).ruleIds).toEqual([
        'c',
        'b',
        'y',
        'x',
        'a',
        'z',
      ]);
      expect(await listed(admin)).toEqual([
        ['c', 0],
        ['b', 1],
        ['y', 2],
        ['x', 3],
        ['a', 4],
        ['z', 5],
      ]);
      expect((await admin.getRoutingRule({ ruleId: 'x' })).rule?.position).toBe(3);
      expect(
        (
          await admin.testRoutingRules({
            mailboxId: 'support',
            message: { from: { address: 'a@b.test', name: '' }, subject: 's' } as never,
          })
        ).matchedRuleId,
      ).toBe('c');

      // Pages follow evaluation order.
      const first = await admin.listRoutingRules({ page: { pageSize: 4, pageToken: '' } });
      const second = await admin.listRoutingRules({ page: { pageSize: 4, pageToken: first.nextPageToken } });
      expect([...first.rules, ...second.rules].map((r) => r.ruleId)).toEqual(['c', 'b', 'y', 'x', 'a', 'z']);
      expect(second.nextPageToken).toBe('');

      // Update keeps the position; "position" is not changed there.
      expect((await admin.updateRoutingRule({ ruleId: 'y', rule: catchAll('y'), updateMask: ['*'] })).rule?.position).toBe(2);
      expect(
        await failure(
          admin.updateRoutingRule({ ruleId: 'y', rule: { ...catchAll('y'), position: 0 }, updateMask: ['position'] }),
        ),
      ).toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringContaining('update_mask') });

      // A deletion leaves no gap.
      await admin.deleteRoutingRule({ ruleId: 'b' });
      expect(await listed(admin)).toEqual([
        ['c', 0],
        ['y', 1],
        ['x', 2],
        ['a', 3],
        ['z', 4],
      ]);

      expect(await failure(admin.createRoutingRule({ ruleId: 'neg', rule: catchAll('neg'), position: -1 }))).toMatchObject({
        code: Status.INVALID_ARGUMENT,
        details: expect.stringMatching(/^position:/),
      });
      expect((await failure(admin.reorderRoutingRules({ ruleIds: ['c', 'y', 'x', 'a'] }))).code).toBe(Status.FAILED_PRECONDITION);
      expect(await failure(admin.reorderRoutingRules({ ruleIds: ['c', 'y', 'x', 'a', 'c'] }))).toMatchObject({
        code: Status.INVALID_ARGUMENT,
        details: expect.stringMatching(/^rule_ids\[4\]:/),
      });
    });

    it('reads rules stored with the older 10, 20, … positions as 0-based and inserts among them', async () => {
      const admin = harness.admin(tenants.legacy);
      await admin.createQueue({ queueId: 'general', queue: { displayName: 'General' } });
      // As an older version stored them: positions 10, 20, 30 (written straight to the store).
      const config = createConfigRepository(harness.stores.config);
      const now = Date.now();
      for (const [id, position] of [
        ['second', 20],
        ['first', 10],
        ['third', 30],
      ] as const) {
        await config.write(tenants.legacy, 'rule', id, 0, { ...catchAll(id), position }, now, now);
      }
      expect(await listed(admin)).toEqual([
        ['first', 0],
        ['second', 1],
        ['third', 2],
      ]);
      expect((await admin.getRoutingRule({ ruleId: 'third' })).rule?.position).toBe(2);
      await admin.createRoutingRule({ ruleId: 'inserted', rule: catchAll('inserted'), position: 1 });
      await admin.createRoutingRule({ ruleId: 'appended', rule: catchAll('appended') });
      expect(await listed(admin)).toEqual([
        ['first', 0],
        ['inserted', 1],
        ['second', 2],
        ['third', 3],
        ['appended', 4],
      ]);
      await admin.reorderRoutingRules({ ruleIds: ['third', 'first', 'inserted', 'second', 'appended'] });
      expect(
        (
          await admin.testRoutingRules({
            mailboxId: 'support',
            message: { from: { address: 'a@b.test', name: '' }, subject: 's' } as never,
          })
        ).matchedRuleId,
      ).toBe('third');
    });
  });

  describe('agent sign-in identities', () => {
    const agent = (partial: Partial<Agent>) => Agent.fromPartial({ displayName: 'Agent', capacity: 2, ...partial });

    it('refuses a second agent with the same user principal name (any case) or Entra object id, naming the field', async () => {
      const admin = harness.admin(tenants.agents);
      await admin.createAgent({
        agentId: 'anna',
        agent: agent({ userPrincipalName: 'Anna@Contoso.test', entraObjectId: 'oid-anna' }),
      });
      expect(
        await failure(admin.createAgent({ agentId: 'anna-2', agent: agent({ userPrincipalName: 'anna@CONTOSO.test' }) })),
      ).toMatchObject({ code: Status.ALREADY_EXISTS, details: expect.stringMatching(/^agent\.user_principal_name:/) });
      expect(
        await failure(
          harness.admin(tenants.agents, 1).createAgent({ agentId: 'anna-3', agent: agent({ entraObjectId: 'OID-ANNA' }) }),
        ),
      ).toMatchObject({ code: Status.ALREADY_EXISTS, details: expect.stringMatching(/^agent\.entra_object_id:/) });
      await admin.createAgent({ agentId: 'ben', agent: agent({ userPrincipalName: 'ben@contoso.test' }) });
      expect(
        await failure(
          admin.updateAgent({
            agentId: 'ben',
            agent: agent({ userPrincipalName: 'ANNA@contoso.test' }),
            updateMask: ['user_principal_name'],
          }),
        ),
      ).toMatchObject({ code: Status.ALREADY_EXISTS, details: expect.stringMatching(/^agent\.user_principal_name:/) });
      expect((await admin.getAgent({ agentId: 'ben' })).agent?.userPrincipalName).toBe('ben@contoso.test');
      // The same agent may keep (or re-case) its own name.
      await admin.updateAgent({
        agentId: 'anna',
        agent: agent({ userPrincipalName: 'ANNA@contoso.test', displayName: 'Anna' }),
        updateMask: ['user_principal_name', 'display_name'],
      });
    });

    it('frees a name when its agent changes it or is deleted', async () => {
      const admin = harness.admin(tenants.agents);
      await admin.createAgent({ agentId: 'carl', agent: agent({ userPrincipalName: 'carl@contoso.test' }) });
      await admin.updateAgent({
        agentId: 'carl',
        agent: agent({ userPrincipalName: 'carl.new@contoso.test' }),
        updateMask: ['user_principal_name'],
      });
      await admin.createAgent({ agentId: 'carl-2', agent: agent({ userPrincipalName: 'Carl@contoso.test' }) });
      expect(
        (await failure(admin.createAgent({ agentId: 'carl-3', agent: agent({ userPrincipalName: 'carl.new@contoso.test' }) })))
          .code,
      ).toBe(Status.ALREADY_EXISTS);
      await admin.deleteAgent({ agentId: 'carl' });
      await admin.createAgent({ agentId: 'carl-3', agent: agent({ userPrincipalName: 'carl.new@contoso.test' }) });
    });

    it('lets exactly one of concurrent creates on both replicas take a name', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          harness
            .admin(tenants.agents, i % 2)
            .createAgent({ agentId: `racer-${i}`, agent: agent({ userPrincipalName: 'Race@Contoso.test' }) }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(
        results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code as Status),
      ).toEqual(Array(5).fill(Status.ALREADY_EXISTS));
      const holders = (await harness.admin(tenants.agents).listAgents({})).agents.filter(
        (a) => a.userPrincipalName.toLowerCase() === 'race@contoso.test',
      );
      expect(holders).toHaveLength(1);
    });

    it('refuses a name an agent stored by an older version (without a claim) already has', async () => {
      const config = createConfigRepository(harness.stores.config);
      await config.write(
        tenants.agents,
        'agent',
        'legacy',
        0,
        agent({ agentId: 'legacy', userPrincipalName: 'legacy@contoso.test' }),
        Date.now(),
        Date.now(),
      );
      expect(
        await failure(
          harness
            .admin(tenants.agents)
            .createAgent({ agentId: 'legacy-2', agent: agent({ userPrincipalName: 'LEGACY@contoso.test' }) }),
        ),
      ).toMatchObject({ code: Status.ALREADY_EXISTS, details: expect.stringMatching(/^agent\.user_principal_name:/) });
    });
  });

  describe('agent sign-in and access', () => {
    it('lets an agent created a moment ago sign in at once, on either replica, even right after being refused', async () => {
      const admin = harness.admin(tenants.agents);
      for (const replica of [0, 1]) {
        const oid = `oid-fresh-${replica}`;
        const desktop = harness.desktop(await token(tenants.agents, oid), replica);
        expect((await failure(desktop.listMyInteractions({}))).code).toBe(Status.PERMISSION_DENIED);
        await harness.admin(tenants.agents, 1 - replica).createAgent({
          agentId: `fresh-${replica}`,
          agent: Agent.fromPartial({ displayName: 'Fresh', entraObjectId: oid, capacity: 1 }),
        });
        await expect(desktop.listMyInteractions({})).resolves.toMatchObject({ interactions: [] });
        const abort = new AbortController();
        streams.push(abort);
        const stream = collect(desktop.connect({ clientInstanceId: `fresh-desk-${replica}` }, { signal: abort.signal }));
        expect((await onStream(stream, () => stream.of('snapshot')[0]))?.status?.agentId).toBe(`fresh-${replica}`);
        abort.abort();
      }
      // Mapped by user principal name too (the test tokens carry `<oid>@test`).
      await admin.createAgent({
        agentId: 'by-upn',
        agent: Agent.fromPartial({ displayName: 'By UPN', userPrincipalName: 'oid-upn@TEST', capacity: 1 }),
      });
      await expect(harness.desktop(await token(tenants.agents, 'oid-upn'), 1).listMyInteractions({})).resolves.toBeDefined();
    });

    it('shuts a disabled agent out of new calls and ends its open stream with PERMISSION_DENIED', async () => {
      const admin = harness.admin(tenants.agents);
      await admin.createAgent({
        agentId: 'dora',
        agent: Agent.fromPartial({ displayName: 'Dora', entraObjectId: 'oid-dora', capacity: 1 }),
      });
      const abort = new AbortController();
      streams.push(abort);
      const stream = collect(
        harness
          .desktop(await token(tenants.agents, 'oid-dora'), 0)
          .connect({ clientInstanceId: 'dora-desk' }, { signal: abort.signal }),
      );
      await onStream(stream, () => stream.of('snapshot').length === 1);
      await admin.updateAgent({ agentId: 'dora', agent: Agent.fromPartial({ enabled: false }), updateMask: ['enabled'] });
      for (const replica of [0, 1]) {
        const desktop = harness.desktop(await token(tenants.agents, 'oid-dora'), replica);
        await waitFor(async () => (await failure(desktop.listMyInteractions({}))).code === Status.PERMISSION_DENIED, slow);
      }
      await waitFor(() => stream.ended(), slow);
      expect(stream.error()?.code).toBe(Status.PERMISSION_DENIED);
    });

    it('revokes a deleted agent’s pending offer (back to the queue) and ends its stream', async () => {
      const admin = harness.admin(tenants.agents);
      await admin.createQueue({ queueId: 'desk', queue: { displayName: 'Desk', offerTimeout: { seconds: 600, nanos: 0 } } });
      await admin.createAgent({
        agentId: 'eve',
        agent: Agent.fromPartial({ displayName: 'Eve', entraObjectId: 'oid-eve', queueIds: ['desk'], capacity: 1 }),
      });
      const abort = new AbortController();
      streams.push(abort);
      const stream = collect(
        harness
          .desktop(await token(tenants.agents, 'oid-eve'), 1)
          .connect({ clientInstanceId: 'eve-desk' }, { signal: abort.signal }),
      );
      await onStream(stream, () => stream.of('snapshot').length === 1);
      const interactionId = randomId('ix');
      await harness.publishInbound({
        tenantId: tenants.agents,
        interactionId,
        defaultQueueId: 'desk',
        message: { subject: 'Help', conversationId: `conv-${interactionId}`, graphMessageId: `g-${interactionId}` } as never,
      });
      await onStream(stream, () => stream.of('offer').find((o) => o.interaction?.interactionId === interactionId));
      await admin.deleteAgent({ agentId: 'eve' });
      expect((await admin.getInteraction({ interactionId })).interaction?.state).toBe(InteractionState.INTERACTION_STATE_QUEUED);
      await waitFor(() => stream.ended(), slow);
      // The revocation event may or may not beat the end of the stream (it comes through Kafka); no new offer does.
      expect(stream.of('offerRevoked').every((r) => r.interactionId === interactionId)).toBe(true);
      expect(stream.of('offer').map((o) => o.interaction?.interactionId)).toEqual([interactionId]);
      expect(stream.error()?.code).toBe(Status.PERMISSION_DENIED);
      expect((await admin.getInteraction({ interactionId })).interaction?.state).toBe(InteractionState.INTERACTION_STATE_QUEUED);
    });
  });

  describe('presence across replicas', () => {
    it('tells a stream on replica 0 of presence set on replica 1, and the planner honours it', async () => {
      const tenant = tenants.presence;
      const admin = harness.admin(tenant, 1);
      await admin.createQueue({
        queueId: 'general',
        queue: { displayName: 'General', offerTimeout: { seconds: 600, nanos: 0 } },
      });
      await admin.createAgent({
        agentId: 'pat',
        agent: Agent.fromPartial({ displayName: 'Pat', entraObjectId: 'oid-pat', queueIds: ['general'], capacity: 2 }),
      });
      const abort = new AbortController();
      streams.push(abort);
      const stream = collect(
        harness.desktop(await token(tenant, 'oid-pat'), 0).connect({ clientInstanceId: 'pat-desk' }, { signal: abort.signal }),
      );
      await onStream(stream, () => stream.of('snapshot').length === 1);

      // The agent (from another desktop call, on replica 1) goes AWAY.
      const away = await harness
        .desktop(await token(tenant, 'oid-pat'), 1)
        .setPresence({ presence: AgentPresence.AGENT_PRESENCE_AWAY, reason: 'lunch' });
      expect(away.status?.presence).toBe(AgentPresence.AGENT_PRESENCE_AWAY);
      const toldAway = await onStream(stream, () =>
        stream.of('presenceChanged').find((p) => p.status?.presence === AgentPresence.AGENT_PRESENCE_AWAY),
      );
      expect(toldAway).toMatchObject({
        status: { presenceReason: 'lunch' },
        changedBy: { kind: ActorKind.ACTOR_KIND_AGENT, id: 'pat' },
      });

      // No offer while AWAY, though the interaction waits in the agent's queue and planners pass over it.
      const interactionId = randomId('ix');
      await harness.publishInbound({
        tenantId: tenant,
        interactionId,
        defaultQueueId: 'general',
        message: {
          subject: 'Where is my order?',
          conversationId: `conv-${interactionId}`,
          graphMessageId: `g-${interactionId}`,
        } as never,
      });
      await waitFor(
        async () =>
          (await admin.getInteraction({ interactionId }).catch(() => undefined))?.interaction?.state ===
          InteractionState.INTERACTION_STATE_QUEUED,
        slow,
      );
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // several planning passes (the harness polls every 300 ms)
      expect(stream.of('offer')).toEqual([]);
      expect((await admin.getInteraction({ interactionId })).interaction?.state).toBe(InteractionState.INTERACTION_STATE_QUEUED);

      // A supervisor (on replica 1) makes the agent AVAILABLE: the stream is told, and the offer follows.
      await admin.setAgentPresence({ agentId: 'pat', presence: AgentPresence.AGENT_PRESENCE_AVAILABLE, reason: 'back' });
      const toldAvailable = await onStream(stream, () =>
        stream.of('presenceChanged').find((p) => p.status?.presence === AgentPresence.AGENT_PRESENCE_AVAILABLE),
      );
      expect(toldAvailable.changedBy?.kind).toBe(ActorKind.ACTOR_KIND_SUPERVISOR);
      await onStream(stream, () => stream.of('offer').find((o) => o.interaction?.interactionId === interactionId));
      // Told once per change, in order.
      expect(stream.of('presenceChanged').map((p) => p.status?.presence)).toEqual([
        AgentPresence.AGENT_PRESENCE_AWAY,
        AgentPresence.AGENT_PRESENCE_AVAILABLE,
      ]);

      // Signed out by a supervisor: the desktop is told and its stream ends.
      await admin.setAgentPresence({ agentId: 'pat', presence: AgentPresence.AGENT_PRESENCE_OFFLINE, reason: '' });
      await waitFor(() => stream.ended(), slow);
      expect(stream.of('presenceChanged').at(-1)?.status?.presence).toBe(AgentPresence.AGENT_PRESENCE_OFFLINE);
    });
  });
});
