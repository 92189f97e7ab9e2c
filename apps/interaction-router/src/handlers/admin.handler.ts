import { ServerError, Status } from 'nice-grpc-common';
import {
  ActorKind,
  Agent,
  AgentPresence,
  InteractionState,
  Queue,
  RoutingRule,
  SenderList,
  type InteractionRouterServiceImplementation,
  type QueueStatistics,
} from '@mailroute/contracts';
import {
  ConflictError,
  FailedPreconditionError,
  NotFoundError,
  ValidationError,
  idRules,
  readUpdateMask,
  type TenantCallContext,
} from '@mailroute/platform';
import { encodePageToken, readPageRequest, type InteractionRecord } from '@mailroute/persistence';
import {
  assertNoViolations,
  checkDirectOffer,
  compileRuleSet,
  evaluateRules,
  explainRouting,
  orderRules,
  placeNewRule,
  planRulePositions,
  validateQueue,
  validateRoutingRule,
  validateRoutingSample,
  validateSenderList,
  type FieldViolation,
  type PositionWrite,
} from '@mailroute/routing-engine';
import { createAgentIdentities, type IdentityClaim } from '../routing/agent-identities';
import { toActor, toInteraction } from '../routing/interaction-mapping';
import type { ConfigKind, StoredConfig } from '../routing/config-repository';
import { createPresence } from '../desktop/presence';
import type { DesktopHub } from '../desktop/desktop-hub';
import type { RouterCore } from '../routing/router-core';
import type { HtmlSanitizer } from '../desktop/html-sanitizer';
import type { RouterStores } from '../store/router-stores';
import { loadQueueStatistics } from '../routing/queue-statistics';
import { listThreadMessages } from './thread-messages';

const S = InteractionState;
/** Resource ids (and skill names) have common.proto's resource-id shape, as every service checks it. */
const resourceId = idRules.resource.pattern;

/** Scopes of InteractionRouterService methods: reads need routing.read, changes routing.write. */
export const adminScopes: Readonly<Record<string, string>> = Object.fromEntries(
  [
    'CreateQueue',
    'GetQueue',
    'ListQueues',
    'UpdateQueue',
    'DeleteQueue',
    'CreateRoutingRule',
    'GetRoutingRule',
    'ListRoutingRules',
    'UpdateRoutingRule',
    'DeleteRoutingRule',
    'ReorderRoutingRules',
    'TestRoutingRules',
    'CreateSenderList',
    'GetSenderList',
    'ListSenderLists',
    'UpdateSenderList',
    'DeleteSenderList',
    'CreateAgent',
    'GetAgent',
    'ListAgents',
    'UpdateAgent',
    'DeleteAgent',
    'SetAgentPresence',
    'GetQueueStatistics',
    'ListQueueStatistics',
    'ListAgentStatuses',
    'SearchInteractions',
    'GetInteraction',
    'ListInteractionMessages',
    'ListInteractionHistory',
    'AssignInteraction',
    'TransferInteraction',
    'CompleteInteraction',
  ].map((method) => [method, /^(Get|List|Search|Test)/.test(method) ? 'routing.read' : 'routing.write']),
);

function rethrowViolations(violations: FieldViolation[]): void {
  try {
    assertNoViolations(violations);
  } catch (error) {
    const first = violations[0];
    if (first) throw new ValidationError(first.field, first.message, { cause: error });
    throw error;
  }
}

function validateAgent(agent: Agent): FieldViolation[] {
  const out: FieldViolation[] = [];
  if (!agent.displayName || agent.displayName.length > 200)
    out.push({ field: 'agent.display_name', message: 'is required, 1-200 characters' });
  if (agent.capacity < 0 || agent.capacity > 100) out.push({ field: 'agent.capacity', message: 'must be 0-100' });
  if (!agent.entraObjectId && !agent.userPrincipalName)
    out.push({ field: 'agent.entra_object_id', message: 'an Entra object id or a user principal name is required for sign-in' });
  agent.skills.forEach((skill, index) => {
    if (!resourceId.test(skill.skill))
      out.push({
        field: `agent.skills[${index}].skill`,
        message: 'must be 1-63 characters of a-z, 0-9 and -, starting with a letter',
      });
    if (skill.level < 0 || skill.level > 10) out.push({ field: `agent.skills[${index}].level`, message: 'must be 0-10' });
  });
  agent.queueIds.forEach((queueId, index) => {
    if (!resourceId.test(queueId)) out.push({ field: `agent.queue_ids[${index}]`, message: 'is not a queue id' });
  });
  return out;
}

const snake = (path: string) => path.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
const protoName = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Copies the masked paths of `patch` onto `current` (both proto JSON); "*" takes every writable field. */
function applyMask(
  current: Record<string, unknown>,
  patch: Record<string, unknown>,
  paths: readonly string[],
  writable: readonly string[],
): Record<string, unknown> {
  const out = structuredClone(current);
  for (const path of readUpdateMask(paths, writable.map(protoName), { subPaths: true })) {
    const parts = path.split('.').map(snake);
    let source: unknown = patch;
    let target: Record<string, unknown> = out;
    for (const [index, part] of parts.entries()) {
      source = (source as Record<string, unknown> | undefined)?.[part];
      if (index === parts.length - 1) {
        if (source === undefined) delete target[part];
        else target[part] = source;
      } else {
        target[part] = (target[part] as Record<string, unknown> | undefined) ?? {};
        target = target[part] as Record<string, unknown>;
      }
    }
  }
  return out;
}

const codecs = { queue: Queue, rule: RoutingRule, senderList: SenderList, agent: Agent } as const;
const writableFields: Record<ConfigKind, string[]> = {
  queue: [
    'displayName',
    'description',
    'strategy',
    'requiredSkills',
    'offerTimeout',
    'serviceLevel',
    'aging',
    'escalationSteps',
    'affinity',
  ],
  // position: ReorderRoutingRules and Create's position only (routing rules are an ordered list).
  rule: ['displayName', 'description', 'enabled', 'condition', 'action'],
  senderList: ['displayName', 'description', 'entries'],
  agent: ['displayName', 'entraObjectId', 'userPrincipalName', 'skills', 'queueIds', 'capacity', 'enabled'],
};
const idField: Record<ConfigKind, string> = { queue: 'queueId', rule: 'ruleId', senderList: 'senderListId', agent: 'agentId' };
const idName: Record<ConfigKind, string> = {
  queue: 'queue_id',
  rule: 'rule_id',
  senderList: 'sender_list_id',
  agent: 'agent_id',
};

/** Most routing rules a tenant may have (interaction_router.proto, RoutingRule). */
const maxRulesPerTenant = 500;

/** InteractionRouterService: the workload-manager API. The tenant is always the caller's. */
export function createAdminHandlers(deps: {
  core: RouterCore;
  stores: RouterStores;
  sanitizer: HtmlSanitizer;
  hub?: DesktopHub;
}): InteractionRouterServiceImplementation<TenantCallContext> {
  const { core, stores } = deps;
  const config = core.config;
  const identities = createAgentIdentities({ config, clock: core.clock });
  const presence = createPresence({ core, stores, ...(deps.hub ? { hub: deps.hub } : {}) });

  /** The tenant's rules in evaluation order; `index` is the 0-based position callers see. */
  async function rulesInOrder(tenantId: string) {
    const rules = await config.all(tenantId, 'rule');
    return orderRules(rules.map((stored) => ({ ruleId: stored.id, position: stored.value.position, stored })));
  }

  function presentRule(stored: StoredConfig<RoutingRule>, index: number): RoutingRule {
    return { ...(present('rule', stored) as RoutingRule), position: index };
  }

  /** Stores new positions one rule at a time (see planRulePositions for the order); a rule changed meanwhile is re-read, one deleted meanwhile skipped. */
  async function writePositions(tenantId: string, writes: readonly PositionWrite[]): Promise<void> {
    for (const write of writes) {
      for (let attempt = 0; ; attempt += 1) {
        const stored = await config.get(tenantId, 'rule', write.ruleId);
        if (!stored || stored.value.position === write.position) break;
        try {
          await config.write(
            tenantId,
            'rule',
            write.ruleId,
            stored.version,
            { ...stored.value, position: write.position },
            stored.createdAt,
            core.clock(),
          );
          break;
        } catch (error) {
          if (!(error instanceof ConflictError) || attempt >= 4) throw error;
        }
      }
    }
  }

  function validate(kind: ConfigKind, value: unknown, id: string): void {
    switch (kind) {
      case 'queue':
        return rethrowViolations(validateQueue(value as Queue, { fieldPrefix: 'queue', queueId: id }));
      case 'rule':
        return rethrowViolations(validateRoutingRule(value as RoutingRule, { fieldPrefix: 'rule' }));
      case 'senderList':
        return rethrowViolations(validateSenderList(value as SenderList, { fieldPrefix: 'sender_list' }));
      default:
        return rethrowViolations(validateAgent(value as Agent));
    }
  }

  function present<K extends ConfigKind>(
    kind: K,
    stored: { id: string; version: number; value: unknown; createdAt: number; updatedAt: number },
  ) {
    return {
      ...(stored.value as object),
      [idField[kind]]: stored.id,
      createdAt: new Date(stored.createdAt),
      updatedAt: new Date(stored.updatedAt),
      etag: String(stored.version),
    } as never;
  }

  function parseEtag(etag: string): number | undefined {
    if (!etag) return undefined;
    if (!/^\d+$/.test(etag)) throw new ValidationError('etag', 'is not an etag returned by this API');
    return Number(etag);
  }

  async function create<K extends ConfigKind>(context: TenantCallContext, kind: K, requestedId: string, value: unknown) {
    if (value === undefined) throw new ValidationError(kind === 'senderList' ? 'sender_list' : kind, 'is required');
    const id = requestedId || `${kind.toLowerCase()}-${Math.random().toString(36).slice(2, 10)}`;
    if (!resourceId.test(id))
      throw new ValidationError(idName[kind], 'must be 1-63 characters of a-z, 0-9 and -, starting with a letter');
    validate(kind, value, id);
    if (kind === 'agent') await assertQueuesExist(context.tenantId, (value as Agent).queueIds);
    const now = core.clock();
    const claims: IdentityClaim[] = kind === 'agent' ? await identities.claim(context.tenantId, id, value as Agent) : [];
    const stored = await config
      .write(context.tenantId, kind, id, 0, { ...(value as object), [idField[kind]]: id } as never, now, now)
      .catch(async (error: unknown) => {
        await identities.undo(context.tenantId, id, claims);
        if (await config.get(context.tenantId, kind, id))
          throw new ServerError(Status.ALREADY_EXISTS, `${kind} ${JSON.stringify(id)} already exists`);
        throw error;
      });
    core.invalidateRules(context.tenantId);
    core.notifyWork(context.tenantId);
    return present(kind, stored);
  }

  async function get<K extends ConfigKind>(context: TenantCallContext, kind: K, id: string) {
    if (!id) throw new ValidationError(idName[kind], 'is required');
    const stored = await config.get(context.tenantId, kind, id);
    if (!stored) throw new NotFoundError(kind, id);
    return stored;
  }

  async function update<K extends ConfigKind>(
    context: TenantCallContext,
    kind: K,
    id: string,
    patch: unknown,
    paths: readonly string[],
    etag: string,
  ) {
    if (patch === undefined) throw new ValidationError(kind === 'senderList' ? 'sender_list' : kind, 'is required');
    const expected = parseEtag(etag);
    const stored = await get(context, kind, id);
    if (expected !== undefined && expected !== stored.version)
      throw new ServerError(Status.ABORTED, `${kind} ${JSON.stringify(id)} changed since etag ${etag}`);
    if (kind === 'rule' && paths.some((path) => path.split('.')[0] === 'position'))
      throw new ValidationError('update_mask', '"position" cannot be changed here: use ReorderRoutingRules');
    const codec = codecs[kind] as unknown as { toJSON(v: unknown): Record<string, unknown>; fromJSON(v: unknown): unknown };
    const merged = codec.fromJSON(applyMask(codec.toJSON(stored.value), codec.toJSON(patch), paths, writableFields[kind]));
    validate(kind, merged, id);
    if (kind === 'agent') await assertQueuesExist(context.tenantId, (merged as Agent).queueIds);
    const claims: IdentityClaim[] =
      kind === 'agent' ? await identities.claim(context.tenantId, id, merged as Agent, stored.value as Agent) : [];
    const written = await config
      .write(context.tenantId, kind, id, stored.version, merged as never, stored.createdAt, core.clock())
      .catch(async (error: unknown) => {
        await identities.undo(context.tenantId, id, claims);
        throw error;
      });
    if (kind === 'agent') await identities.releaseDropped(context.tenantId, id, stored.value as Agent);
    core.invalidateRules(context.tenantId);
    core.notifyWork(context.tenantId);
    return present(kind, written);
  }

  async function list<K extends ConfigKind>(
    context: TenantCallContext,
    kind: K,
    page: { pageSize?: number; pageToken?: string } | undefined,
  ) {
    const { pageSize, after } = readPageRequest(page ?? {});
    const items = await config.list(context.tenantId, kind, after, pageSize);
    const last = items[items.length - 1];
    return {
      items: items.map((item) => present(kind, item)),
      nextPageToken: items.length === pageSize && last ? encodePageToken(last.id) : '',
    };
  }

  async function remove(context: TenantCallContext, kind: ConfigKind, id: string, etag: string): Promise<void> {
    const stored = await get(context, kind, id);
    const expected = parseEtag(etag);
    if (expected !== undefined && expected !== stored.version)
      throw new ServerError(Status.ABORTED, `${kind} ${JSON.stringify(id)} changed since etag ${etag}`);
    if (kind === 'queue') {
      const busy = await stores.interactions.search(
        context.tenantId,
        { queueIds: [id], states: [S.INTERACTION_STATE_QUEUED, S.INTERACTION_STATE_OFFERED] },
        undefined,
        1,
      );
      if (busy.length > 0) throw new FailedPreconditionError(`queue ${id} has waiting or offered interactions`);
      const rules = await config.all(context.tenantId, 'rule');
      if (rules.some((r) => r.value.action?.action?.$case === 'route' && r.value.action.action.value.queueId === id))
        throw new FailedPreconditionError(`a routing rule targets queue ${id}`);
    }
    if (kind === 'agent') {
      const holding = await stores.interactions.search(
        context.tenantId,
        { agentIds: [id], states: [S.INTERACTION_STATE_ASSIGNED, S.INTERACTION_STATE_REPLIED] },
        undefined,
        1,
      );
      if (holding.length > 0) throw new FailedPreconditionError(`agent ${id} holds interactions; transfer them first`);
    }
    await config.remove(context.tenantId, kind, id, stored.version);
    if (kind === 'agent') {
      await identities.releaseDropped(context.tenantId, id, stored.value as Agent);
      // Its stream ends on its next session refresh.
      await presence.retire(context.tenantId, id, {
        kind: ActorKind.ACTOR_KIND_SUPERVISOR,
        id: context.caller.keyId,
        displayName: '',
      });
    }
    core.invalidateRules(context.tenantId);
  }

  async function assertQueuesExist(tenantId: string, queueIds: readonly string[]): Promise<void> {
    for (const [index, queueId] of queueIds.entries()) {
      if (!(await config.get(tenantId, 'queue', queueId)))
        throw new ValidationError(`agent.queue_ids[${index}]`, `queue ${JSON.stringify(queueId)} does not exist`);
    }
  }

  async function interaction(context: TenantCallContext, interactionId: string): Promise<InteractionRecord> {
    if (!interactionId) throw new ValidationError('interaction_id', 'is required');
    const record = await stores.interactions.get(context.tenantId, interactionId);
    if (!record) throw new NotFoundError('interaction', interactionId);
    return record;
  }

  function checkVersion(record: InteractionRecord, expected: number): void {
    if (expected < 0) throw new ValidationError('expected_version', 'must not be negative');
    if (expected > 0 && expected !== record.version)
      throw new ServerError(
        Status.ABORTED,
        `interaction ${record.interactionId} is at version ${record.version}, not ${expected}`,
      );
  }

  async function statistics(context: TenantCallContext, queueId: string, windowMs: number): Promise<QueueStatistics> {
    const [result] = await loadQueueStatistics({ core, stores }, context.tenantId, [queueId], windowMs);
    if (!result) throw new NotFoundError('queue', queueId);
    return result;
  }

  const windowOf = (window: { seconds: number; nanos: number } | undefined): number => {
    const ms = window ? window.seconds * 1000 + Math.round(window.nanos / 1e6) : 3_600_000;
    if (ms < 60_000 || ms > 7 * 86_400_000) throw new ValidationError('window', 'must be between 1m and 7d');
    return ms;
  };

  const supervisor = (context: TenantCallContext) => ({ kind: 'supervisor' as const, id: context.caller.keyId });

  return {
    createQueue: async (request, context) => ({ queue: await create(context, 'queue', request.queueId, request.queue) }),
    getQueue: async (request, context) => ({ queue: present('queue', await get(context, 'queue', request.queueId)) }),
    listQueues: async (request, context) => {
      const page = await list(context, 'queue', request.page);
      return { queues: page.items, nextPageToken: page.nextPageToken };
    },
    updateQueue: async (request, context) => ({
      queue: await update(context, 'queue', request.queueId, request.queue, request.updateMask ?? [], request.etag),
    }),
    deleteQueue: async (request, context) => (await remove(context, 'queue', request.queueId, request.etag), {}),
    createRoutingRule: async (request, context) => {
      if (!request.rule) throw new ValidationError('rule', 'is required');
      if (request.position !== undefined && (!Number.isInteger(request.position) || request.position < 0))
        throw new ValidationError('position', 'must be 0 or more (a 0-based position)');
      const id = request.ruleId || `rule-${Math.random().toString(36).slice(2, 10)}`;
      if (!resourceId.test(id))
        throw new ValidationError('rule_id', 'must be 1-63 characters of a-z, 0-9 and -, starting with a letter');
      validate('rule', request.rule, id);
      const rules = await config.all(context.tenantId, 'rule');
      if (rules.some((r) => r.id === id))
        throw new ServerError(Status.ALREADY_EXISTS, `rule ${JSON.stringify(id)} already exists`);
      if (rules.length >= maxRulesPerTenant)
        throw new FailedPreconditionError(`a tenant has at most ${maxRulesPerTenant} routing rules`);
      const placed = placeNewRule(
        rules.map((r) => ({ ruleId: r.id, position: r.value.position })),
        id,
        request.position,
      );
      // Make room first: until the new rule is written, the others keep their relative order.
      await writePositions(context.tenantId, placed.writes);
      const created = (await create(context, 'rule', id, { ...request.rule, position: placed.position })) as RoutingRule;
      return { rule: { ...created, position: placed.order.indexOf(id) } };
    },
    getRoutingRule: async (request, context) => {
      const stored = await get(context, 'rule', request.ruleId);
      const index = (await rulesInOrder(context.tenantId)).find((r) => r.ruleId === stored.id)?.index ?? 0;
      return { rule: presentRule(stored, index) };
    },
    listRoutingRules: async (request, context) => {
      // Evaluation order, paged by index (a tenant has at most 500 rules, so this reads them all).
      const { pageSize, after } = readPageRequest(request.page ?? {});
      const start = after === undefined ? 0 : Number(after) + 1;
      if (!Number.isInteger(start) || start < 0) throw new ValidationError('page_token', 'is not a token returned by this API');
      const ordered = await rulesInOrder(context.tenantId);
      const page = ordered.slice(start, start + pageSize);
      const last = page[page.length - 1];
      return {
        rules: page.map((r) => presentRule(r.stored, r.index)),
        nextPageToken: last && last.index < ordered.length - 1 ? encodePageToken(String(last.index)) : '',
      };
    },
    updateRoutingRule: async (request, context) => {
      const updated = (await update(
        context,
        'rule',
        request.ruleId,
        request.rule,
        request.updateMask ?? [],
        request.etag,
      )) as RoutingRule;
      const index = (await rulesInOrder(context.tenantId)).find((r) => r.ruleId === updated.ruleId)?.index ?? 0;
      return { rule: { ...updated, position: index } };
    },
    deleteRoutingRule: async (request, context) => (await remove(context, 'rule', request.ruleId, request.etag), {}),
    reorderRoutingRules: async (request, context) => {
      request.ruleIds.forEach((id, index) => {
        if (!resourceId.test(id)) throw new ValidationError(`rule_ids[${index}]`, 'is not a rule id');
      });
      const duplicate = request.ruleIds.findIndex((id, index) => request.ruleIds.indexOf(id) !== index);
      if (duplicate >= 0) throw new ValidationError(`rule_ids[${duplicate}]`, 'names a rule twice');
      const rules = await config.all(context.tenantId, 'rule');
      const known = new Set(rules.map((r) => r.id));
      if (request.ruleIds.length !== known.size || request.ruleIds.some((id) => !known.has(id))) {
        throw new FailedPreconditionError(
          'rule_ids must list every routing rule of the tenant exactly once (a rule was added or deleted meanwhile?): list them and retry',
        );
      }
      await writePositions(
        context.tenantId,
        planRulePositions(
          rules.map((r) => ({ ruleId: r.id, position: r.value.position })),
          request.ruleIds,
        ),
      );
      core.invalidateRules(context.tenantId);
      return { ruleIds: (await rulesInOrder(context.tenantId)).map((r) => r.ruleId) };
    },
    testRoutingRules: async (request, context) => {
      rethrowViolations(validateRoutingSample(request));
      const message = request.message;
      if (!message) throw new ValidationError('message', 'is required');
      // The engine path intake takes (compileRuleSet + evaluateRules), over the stored rules as they are now.
      const [rules, lists, queues] = await Promise.all([
        config.all(context.tenantId, 'rule'),
        config.all(context.tenantId, 'senderList'),
        core.queuePolicies(context.tenantId),
      ]);
      const ruleSet = compileRuleSet(
        rules.map((r) => ({ ...r.value, ruleId: r.id })),
        lists.map((l) => ({ ...l.value, senderListId: l.id })),
      );
      // The mailbox's default queue is mailbox-fetch's configuration (it reaches the router only on
      // each InboundEmail), so a sample that no rule matches is answered as UNROUTED.
      const evaluation = evaluateRules(
        ruleSet,
        { mailboxId: request.mailboxId, message },
        { queueSkills: (queueId) => queues.get(queueId)?.queue.requiredSkills },
      );
      return explainRouting(ruleSet, evaluation, (queueId) => queues.has(queueId));
    },
    createSenderList: async (request, context) => ({
      senderList: await create(context, 'senderList', request.senderListId, request.senderList),
    }),
    getSenderList: async (request, context) => ({
      senderList: present('senderList', await get(context, 'senderList', request.senderListId)),
    }),
    listSenderLists: async (request, context) => {
      const page = await list(context, 'senderList', request.page);
      return { senderLists: page.items, nextPageToken: page.nextPageToken };
    },
    updateSenderList: async (request, context) => ({
      senderList: await update(
        context,
        'senderList',
        request.senderListId,
        request.senderList,
        request.updateMask ?? [],
        request.etag,
      ),
    }),
    deleteSenderList: async (request, context) => (await remove(context, 'senderList', request.senderListId, request.etag), {}),
    createAgent: async (request, context) => ({ agent: await create(context, 'agent', request.agentId, request.agent) }),
    getAgent: async (request, context) => ({ agent: present('agent', await get(context, 'agent', request.agentId)) }),
    listAgents: async (request, context) => {
      const page = await list(context, 'agent', request.page);
      return {
        agents: (page.items as Agent[]).filter(
          (a) =>
            (!request.queueId || a.queueIds.includes(request.queueId)) &&
            (!request.skill || a.skills.some((s) => s.skill === request.skill)),
        ),
        nextPageToken: page.nextPageToken,
      };
    },
    updateAgent: async (request, context) => ({
      agent: await update(context, 'agent', request.agentId, request.agent, request.updateMask ?? [], request.etag),
    }),
    deleteAgent: async (request, context) => (await remove(context, 'agent', request.agentId, request.etag), {}),
    setAgentPresence: async (request, context) => {
      if (
        request.presence === AgentPresence.AGENT_PRESENCE_UNSPECIFIED ||
        !(request.presence in AgentPresence) ||
        request.presence === AgentPresence.UNRECOGNIZED
      )
        throw new ValidationError('presence', 'is required');
      if (request.reason.length > 64) throw new ValidationError('reason', 'must be at most 64 characters');
      if (!request.agentId) throw new ValidationError('agent_id', 'is required');
      await get(context, 'agent', request.agentId);
      const status = await presence.change(context.tenantId, request.agentId, request.presence, request.reason, {
        kind: ActorKind.ACTOR_KIND_SUPERVISOR,
        id: context.caller.keyId,
        displayName: '',
      });
      return { status };
    },
    getQueueStatistics: async (request, context) => {
      await get(context, 'queue', request.queueId);
      return { statistics: await statistics(context, request.queueId, windowOf(request.window)) };
    },
    listQueueStatistics: async (request, context) => {
      const windowMs = windowOf(request.window);
      const page = await list(context, 'queue', request.page);
      const out: QueueStatistics[] = [];
      for (const queue of page.items as Queue[]) out.push(await statistics(context, queue.queueId, windowMs));
      return { statistics: out, nextPageToken: page.nextPageToken };
    },
    listAgentStatuses: async (request, context) => {
      const { pageSize, after } = readPageRequest(request.page ?? {});
      const views = [...(await core.agentViews(context.tenantId)).values()]
        .filter(
          (v) =>
            (after === undefined || v.snapshot.agentId > after) &&
            (!request.queueId || v.agent.queueIds.includes(request.queueId)) &&
            (!request.presence || v.snapshot.presence === request.presence),
        )
        .sort((a, b) => a.snapshot.agentId.localeCompare(b.snapshot.agentId))
        .slice(0, pageSize);
      const last = views[views.length - 1];
      return {
        statuses: views.map((v) => ({
          agentId: v.snapshot.agentId,
          displayName: v.agent.displayName,
          presence: v.snapshot.presence,
          presenceReason: v.presenceReason,
          presenceSince: new Date(v.presenceSince),
          connected: v.connected,
          capacity: v.snapshot.capacity,
          activeInteractions: v.snapshot.activeInteractions,
          pendingOffers: v.snapshot.pendingOffers,
          idleSince: v.snapshot.idleSince === undefined ? undefined : new Date(v.snapshot.idleSince),
          lastAssignedAt: v.snapshot.lastAssignedAt === undefined ? undefined : new Date(v.snapshot.lastAssignedAt),
          queueIds: v.agent.queueIds,
        })),
        nextPageToken: views.length === pageSize && last ? encodePageToken(last.snapshot.agentId) : '',
      };
    },
    searchInteractions: async (request, context) => {
      const { pageSize, after } = readPageRequest(request.page ?? {});
      const f = request.filter;
      if (f?.subjectContains && f.subjectContains.length > 200)
        throw new ValidationError('filter.subject_contains', 'must be at most 200 characters');
      const filter = {
        ...(f?.states.length ? { states: f.states } : {}),
        ...(f?.queueIds.length ? { queueIds: f.queueIds } : {}),
        ...(f?.agentIds.length ? { agentIds: f.agentIds } : {}),
        ...(f?.mailboxIds.length ? { mailboxIds: f.mailboxIds } : {}),
        ...(f?.customerAddress ? { customerAddress: f.customerAddress } : {}),
        ...(f?.conversationId ? { conversationId: f.conversationId } : {}),
        ...(f?.internetMessageId ? { internetMessageId: f.internetMessageId } : {}),
        ...(f?.tags.length ? { tags: f.tags } : {}),
        ...(f?.receivedAfter ? { receivedAfter: f.receivedAfter.getTime() } : {}),
        ...(f?.receivedBefore ? { receivedBefore: f.receivedBefore.getTime() } : {}),
      };
      if (!f?.subjectContains) {
        const records = await stores.interactions.search(context.tenantId, filter, after, pageSize);
        const last = records[records.length - 1];
        return {
          interactions: records.map((r) => toInteraction(r)),
          nextPageToken: records.length === pageSize && last ? encodePageToken(last.interactionId) : '',
        };
      }
      // The subject is matched here, not in the store: read on in batches until the page is full
      // (a page of the store's order may hold no match), at most 10 batches per call; the token
      // then continues after the last interaction read.
      const needle = f.subjectContains.toLowerCase();
      const batchSize = Math.max(pageSize, 100);
      const matching: InteractionRecord[] = [];
      let cursor = after;
      let exhausted = false;
      for (let batch = 0; batch < 10 && matching.length < pageSize && !exhausted; batch += 1) {
        const records = await stores.interactions.search(context.tenantId, filter, cursor, batchSize);
        exhausted = records.length < batchSize;
        for (const record of records) {
          cursor = record.interactionId;
          if (!record.subject.toLowerCase().includes(needle)) continue;
          matching.push(record);
          if (matching.length === pageSize) {
            exhausted = exhausted && record === records[records.length - 1];
            break;
          }
        }
      }
      return {
        interactions: matching.map((r) => toInteraction(r)),
        nextPageToken: !exhausted && cursor ? encodePageToken(cursor) : '',
      };
    },
    getInteraction: async (request, context) => ({
      interaction: toInteraction(await interaction(context, request.interactionId)),
    }),
    listInteractionMessages: async (request, context) => {
      const record = await interaction(context, request.interactionId);
      return listThreadMessages({ stores, sanitizer: deps.sanitizer }, context.tenantId, record.interactionId, request.page);
    },
    listInteractionHistory: async (request, context) => {
      await interaction(context, request.interactionId);
      const { pageSize, after } = readPageRequest(request.page ?? {});
      const entries = await stores.interactions.history(
        context.tenantId,
        request.interactionId,
        after === undefined ? 0 : Number(after),
        pageSize,
      );
      const last = entries[entries.length - 1];
      return {
        entries: entries.map((e) => ({
          version: e.version,
          occurredAt: new Date(e.occurredAt),
          previousState: e.previousState,
          state: e.state,
          reason: e.reason,
          actor: toActor(e.actor),
          queueId: e.queueId,
          agentId: e.agentId,
          note: e.note,
        })),
        nextPageToken: entries.length === pageSize && last ? encodePageToken(String(last.version)) : '',
      };
    },
    assignInteraction: async (request, context) => {
      if (!request.agentId) throw new ValidationError('agent_id', 'is required');
      if (request.note.length > 4096) throw new ValidationError('note', 'must be at most 4096 characters');
      const record = await interaction(context, request.interactionId);
      checkVersion(record, request.expectedVersion);
      const view = (await core.agentViews(context.tenantId)).get(request.agentId);
      if (!view) throw new NotFoundError('agent', request.agentId);
      const check = checkDirectOffer(view.snapshot);
      if (!check.ok) throw new FailedPreconditionError(check.message);
      const claim = await core.claimSlot(
        context.tenantId,
        request.agentId,
        view.snapshot.capacity,
        record.interactionId,
        request.offer ? 'offer' : 'assigned',
      );
      if (!claim) throw new FailedPreconditionError(`agent ${request.agentId} has no free capacity`);
      const previousHolder = record.state === S.INTERACTION_STATE_OFFERED ? record.offeredAgentId : record.agentId;
      const by = supervisor(context);
      const queues = await core.queuePolicies(context.tenantId);
      const timeout = queues.get(record.queueId ?? '')?.policy.offerTimeoutMs ?? 60_000;
      let next: InteractionRecord | undefined;
      try {
        next = request.offer
          ? await core.applyChange(
              record,
              { type: 'transfer-to-agent', at: core.clock(), agentId: request.agentId, expiresAt: core.clock() + timeout, by },
              { note: request.note, patch: { offerReason: 4, offerNote: request.note } },
            )
          : await core.applyChange(
              record,
              { type: 'assign', at: core.clock(), agentId: request.agentId, by },
              { note: request.note },
            );
      } catch (error) {
        await core.undoClaim(claim);
        throw error;
      }
      if (!next) {
        await core.undoClaim(claim);
        throw new ServerError(Status.ABORTED, 'the interaction changed meanwhile; read it again');
      }
      if (previousHolder && previousHolder !== request.agentId)
        await core.releaseSlot(context.tenantId, previousHolder, record.interactionId);
      if (!request.offer) await core.markSlotAssigned(context.tenantId, request.agentId, record.interactionId);
      core.notifyWork(context.tenantId);
      return { interaction: toInteraction(next) };
    },
    transferInteraction: async (request, context) => {
      const target = request.target?.target;
      if (!target) throw new ValidationError('target', 'is required');
      const record = await interaction(context, request.interactionId);
      checkVersion(record, request.expectedVersion);
      if (target.$case === 'agentId') {
        const result = await createAdminHandlers(deps).assignInteraction(
          {
            interactionId: request.interactionId,
            agentId: target.value,
            offer: true,
            note: request.note,
            expectedVersion: request.expectedVersion,
          },
          context as never,
        );
        return { interaction: result.interaction };
      }
      if (!(await config.get(context.tenantId, 'queue', target.value))) throw new NotFoundError('queue', target.value);
      const previousHolder = record.state === S.INTERACTION_STATE_OFFERED ? record.offeredAgentId : record.agentId;
      const next = await core.applyChange(
        record,
        { type: 'transfer-to-queue', at: core.clock(), queueId: target.value, by: supervisor(context) },
        { note: request.note },
      );
      if (!next) throw new ServerError(Status.ABORTED, 'the interaction changed meanwhile; read it again');
      await core.releaseSlot(context.tenantId, previousHolder, record.interactionId);
      core.notifyWork(context.tenantId);
      return { interaction: toInteraction(next) };
    },
    completeInteraction: async (request, context) => {
      const record = await interaction(context, request.interactionId);
      checkVersion(record, request.expectedVersion);
      const previousHolder = record.state === S.INTERACTION_STATE_OFFERED ? record.offeredAgentId : record.agentId;
      const next = await core.applyChange(
        record,
        { type: 'complete', at: core.clock(), by: supervisor(context) },
        { note: request.note, patch: { dispositionCode: request.dispositionCode } },
      );
      if (!next) throw new ServerError(Status.ABORTED, 'the interaction changed meanwhile; read it again');
      await core.releaseSlot(context.tenantId, previousHolder, record.interactionId);
      core.notifyWork(context.tenantId);
      return { interaction: toInteraction(next) };
    },
  };
}
