import type { RoutingRule } from '@mailroute/contracts';
import { ConflictError, FailedPreconditionError, AlreadyExistsError, ValidationError } from '@mailroute/platform';
import { encodePageToken, readPageRequest } from '@mailroute/persistence';
import {
  compileRuleSet,
  evaluateRules,
  explainRouting,
  orderRules,
  placeNewRule,
  planRulePositions,
  validateRoutingSample,
  type PositionWrite,
} from '@mailroute/routing-engine';
import type { StoredConfig } from '../../routing/config-repository';
import type { AdminContext, AdminHandlers } from './admin-context';
import { rethrowViolations, validateConfig } from './config-resources';
import { resourceId } from './resource-id';

/** Most routing rules a tenant may have (interaction_router.proto, RoutingRule). */
const maxRulesPerTenant = 500;

type RuleMethods =
  | 'createRoutingRule'
  | 'getRoutingRule'
  | 'listRoutingRules'
  | 'updateRoutingRule'
  | 'deleteRoutingRule'
  | 'reorderRoutingRules'
  | 'testRoutingRules';

/** Routing rules, an ordered list per tenant: CRUD, ReorderRoutingRules and TestRoutingRules. */
export function createRoutingRuleHandlers(admin: AdminContext): Pick<AdminHandlers, RuleMethods> {
  const { core, config } = admin;
  const { create, get, update, remove, present } = admin.resources;

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

  return {
    createRoutingRule: async (request, context) => {
      if (!request.rule) throw new ValidationError('rule', 'is required');
      if (request.position !== undefined && (!Number.isInteger(request.position) || request.position < 0))
        throw new ValidationError('position', 'must be 0 or more (a 0-based position)');
      const id = request.ruleId || `rule-${Math.random().toString(36).slice(2, 10)}`;
      if (!resourceId.test(id))
        throw new ValidationError('rule_id', 'must be 1-63 characters of a-z, 0-9 and -, starting with a letter');
      validateConfig('rule', request.rule, id);
      const rules = await config.all(context.tenantId, 'rule');
      if (rules.some((r) => r.id === id)) throw new AlreadyExistsError('rule', id);
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
  };
}
