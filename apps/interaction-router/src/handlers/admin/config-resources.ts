import {
  ActorKind,
  Agent,
  Calendar,
  InteractionState,
  MailboxSettings,
  MessageTemplate,
  Queue,
  RoutingRule,
  SenderList,
  SignatureRule,
  TemplateAttachment,
} from '@mailroute/contracts';
import {
  AlreadyExistsError,
  ConflictError,
  FailedPreconditionError,
  NotFoundError,
  ValidationError,
  readUpdateMask,
  type TenantCallContext,
} from '@mailroute/platform';
import { encodePageToken, readPageRequest } from '@mailroute/persistence';
import {
  assertNoViolations,
  validateCalendar,
  validateQueue,
  validateRoutingRule,
  validateMailboxSettings,
  validateSenderList,
  validateSignatureRule,
  validateTemplateResource,
  type FieldViolation,
} from '@mailroute/routing-engine';
import type { createAgentIdentities, IdentityClaim } from '../../routing/agent-identities';
import type { ConfigKind } from '../../routing/config-repository';
import type { createPresence } from '../../desktop/presence';
import type { RouterCore } from '../../routing/router-core';
import type { RouterStores } from '../../store/router-stores';
import type { TemplateFiles } from '../../routing/template-files';
import { createConfigReferences } from './config-references';
import { resourceId } from './resource-id';

const S = InteractionState;

/** Throws the first violation as a ValidationError naming its field. */
export function rethrowViolations(violations: FieldViolation[]): void {
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

const codecs = {
  queue: Queue,
  rule: RoutingRule,
  senderList: SenderList,
  agent: Agent,
  calendar: Calendar,
  template: MessageTemplate,
  mailbox: MailboxSettings,
  signatureRule: SignatureRule,
  templateFile: TemplateAttachment,
} as const;
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
    'hours',
    'acknowledgement',
    'signatureTemplateId',
    'alertThresholds',
  ],
  // position: ReorderRoutingRules and Create's position only (routing rules are an ordered list).
  rule: ['displayName', 'description', 'enabled', 'condition', 'action'],
  senderList: ['displayName', 'description', 'entries'],
  agent: [
    'displayName',
    'entraObjectId',
    'userPrincipalName',
    'skills',
    'queueIds',
    'capacity',
    'enabled',
    'signatureTemplateId',
  ],
  calendar: ['displayName', 'timeZone', 'weeklyHours', 'holidays', 'exceptions'],
  template: ['displayName', 'kind', 'queueIds', 'subject', 'html', 'text', 'attachments'],
  mailbox: ['signatureTemplateId', 'acknowledgement'],
  signatureRule: ['parts'],
  templateFile: [],
};
const idField: Record<ConfigKind, string> = {
  queue: 'queueId',
  rule: 'ruleId',
  senderList: 'senderListId',
  agent: 'agentId',
  calendar: 'calendarId',
  template: 'templateId',
  mailbox: 'mailboxId',
  signatureRule: 'ruleId',
  templateFile: 'uploadId',
};
/** The request field that carries the object (INVALID_ARGUMENT when it is missing). */
const bodyField: Record<ConfigKind, string> = {
  queue: 'queue',
  rule: 'rule',
  senderList: 'sender_list',
  agent: 'agent',
  calendar: 'calendar',
  template: 'template',
  mailbox: 'settings',
  signatureRule: 'rule',
  templateFile: 'attachment',
};
const idName: Record<ConfigKind, string> = {
  queue: 'queue_id',
  rule: 'rule_id',
  senderList: 'sender_list_id',
  agent: 'agent_id',
  calendar: 'calendar_id',
  template: 'template_id',
  mailbox: 'mailbox_id',
  signatureRule: 'rule_id',
  templateFile: 'upload_id',
};

/** A stored configuration value as the API presents it: its id field, timestamps and etag (the version). */
export function present<K extends ConfigKind>(
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

/** Checks a configuration value of `kind` (INVALID_ARGUMENT naming the first bad field). */
export function validateConfig(kind: ConfigKind, value: unknown, id: string): void {
  switch (kind) {
    case 'queue':
      return rethrowViolations(validateQueue(value as Queue, { fieldPrefix: 'queue', queueId: id }));
    case 'rule':
      return rethrowViolations(validateRoutingRule(value as RoutingRule, { fieldPrefix: 'rule' }));
    case 'senderList':
      return rethrowViolations(validateSenderList(value as SenderList, { fieldPrefix: 'sender_list' }));
    case 'calendar': {
      const calendar = value as Calendar;
      const name: FieldViolation[] =
        !calendar.displayName || calendar.displayName.length > 200
          ? [{ field: 'calendar.display_name', message: 'is required, 1-200 characters' }]
          : [];
      return rethrowViolations([...name, ...validateCalendar(calendar, { fieldPrefix: 'calendar' })]);
    }
    case 'template':
      return rethrowViolations(validateTemplateResource(value as MessageTemplate, { fieldPrefix: 'template' }));
    case 'mailbox':
      return rethrowViolations(validateMailboxSettings(value as MailboxSettings, { fieldPrefix: 'settings' }));
    case 'signatureRule':
      return rethrowViolations(validateSignatureRule(value as SignatureRule, { fieldPrefix: 'rule' }));
    default:
      return rethrowViolations(validateAgent(value as Agent));
  }
}

/**
 * Create, get, update (with an update mask and an etag), list and delete of the tenant's queues,
 * routing rules, sender lists and agents: what the four resources share. Agents' sign-in identities
 * are claimed with their writes; a deleted agent's presence is retired.
 */
export function createConfigResources(deps: {
  core: RouterCore;
  stores: RouterStores;
  identities: ReturnType<typeof createAgentIdentities>;
  presence: ReturnType<typeof createPresence>;
  files: TemplateFiles;
}) {
  const { core, stores, identities, presence } = deps;
  const config = core.config;
  const { assertReferencesExist, assertTemplateUnused } = createConfigReferences({
    config,
    blobs: stores.blobs,
    files: deps.files,
  });

  async function create<K extends ConfigKind>(context: TenantCallContext, kind: K, requestedId: string, value: unknown) {
    if (value === undefined) throw new ValidationError(bodyField[kind], 'is required');
    const id = requestedId || `${kind.toLowerCase()}-${Math.random().toString(36).slice(2, 10)}`;
    if (!resourceId.test(id))
      throw new ValidationError(idName[kind], 'must be 1-63 characters of a-z, 0-9 and -, starting with a letter');
    validateConfig(kind, value, id);
    const checked = await assertReferencesExist(context.tenantId, kind, value);
    const now = core.clock();
    const claims: IdentityClaim[] = kind === 'agent' ? await identities.claim(context.tenantId, id, value as Agent) : [];
    const stored = await config
      .write(context.tenantId, kind, id, 0, { ...(checked as object), [idField[kind]]: id } as never, now, now)
      .catch(async (error: unknown) => {
        await identities.undo(context.tenantId, id, claims);
        if (await config.get(context.tenantId, kind, id)) throw new AlreadyExistsError(kind, id);
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
    if (patch === undefined) throw new ValidationError(bodyField[kind], 'is required');
    const expected = parseEtag(etag);
    const stored = await get(context, kind, id);
    if (expected !== undefined && expected !== stored.version)
      throw new ConflictError(`${kind} ${JSON.stringify(id)} changed since etag ${etag}`);
    if (kind === 'rule' && paths.some((path) => path.split('.')[0] === 'position'))
      throw new ValidationError('update_mask', '"position" cannot be changed here: use ReorderRoutingRules');
    const codec = codecs[kind] as unknown as { toJSON(v: unknown): Record<string, unknown>; fromJSON(v: unknown): unknown };
    const merged = codec.fromJSON(applyMask(codec.toJSON(stored.value), codec.toJSON(patch), paths, writableFields[kind]));
    validateConfig(kind, merged, id);
    const checked = await assertReferencesExist(context.tenantId, kind, merged);
    const claims: IdentityClaim[] =
      kind === 'agent' ? await identities.claim(context.tenantId, id, merged as Agent, stored.value as Agent) : [];
    const written = await config
      .write(context.tenantId, kind, id, stored.version, checked as never, stored.createdAt, core.clock())
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
      throw new ConflictError(`${kind} ${JSON.stringify(id)} changed since etag ${etag}`);
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
    if (kind === 'calendar') {
      const queues = await config.all(context.tenantId, 'queue');
      const user = queues.find((q) => q.value.hours?.calendarId === id);
      if (user) throw new FailedPreconditionError(`queue ${user.id} uses calendar ${id}`);
    }
    if (kind === 'template') await assertTemplateUnused(context.tenantId, id);
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

  return { create, get, update, list, remove, present };
}
