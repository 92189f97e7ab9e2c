import {
  AgentPresence,
  CreateAgentResponse,
  CreateQueueResponse,
  CreateRoutingRuleResponse,
  GetQueueStatisticsResponse,
  ListAgentStatusesResponse,
  ListQueuesResponse,
  ListQueueStatisticsResponse,
  ListRoutingRulesResponse,
  QueueStrategy,
  type QueueStatistics,
} from '@mailroute/contracts';
import { flag, list, requireStr, str, type Command } from '../command';
import { UsageError } from '../errors';
import { formatDuration, formatPercent, formatTime, table } from '../format';
import { enumChoices, enumLabel, parseDuration, parseEnum, parseInteger, parseSkill } from '../values';
import { describeAction, describeRule, ruleAction, ruleCondition } from './routing-rule-options';

const presenceLabel = (value: number) => enumLabel(AgentPresence, 'AGENT_PRESENCE', value);

function statisticsRows(statistics: readonly QueueStatistics[]) {
  return table(
    [
      'QUEUE',
      'WAITING',
      'OFFERED',
      'ASSIGNED',
      'LONGEST WAIT',
      'AVG TO ACCEPT',
      'SERVICE LEVEL',
      'AGENTS (AVAIL/IN)',
      'CAPACITY (USED/TOTAL)',
      'ACCEPTED',
      'COMPLETED',
    ],
    statistics.map((s) => [
      s.queueId,
      s.waiting,
      s.offered,
      s.assigned,
      formatDuration(s.longestWait),
      formatDuration(s.averageTimeToAccept),
      s.serviceLevel
        ? `${formatPercent(s.serviceLevel.achievedPercent)} of ${s.serviceLevel.targetPercent}% in ${formatDuration(s.serviceLevel.threshold)}`
        : '',
      `${s.agentsAvailable}/${s.agentsSignedIn}`,
      `${s.capacityUsed}/${s.capacityTotal}`,
      s.acceptedInWindow,
      s.completedInWindow,
    ]),
  );
}

export const routingCommands: Command[] = [
  {
    path: ['queue', 'create'],
    summary: 'create a queue',
    args: ['<queue-id>'],
    options: {
      name: { type: 'string', value: '<text>', description: 'display name (required)' },
      description: { type: 'string', value: '<text>', description: 'description' },
      strategy: {
        type: 'string',
        value: `<${enumChoices(QueueStrategy, 'QUEUE_STRATEGY').join('|')}>`,
        description: 'agent selection (default longest-idle)',
      },
      'offer-timeout': { type: 'string', value: '<duration>', description: 'time an agent has to accept, 10s-15m (default 60s)' },
      skill: {
        type: 'string',
        multiple: true,
        value: '<skill[:level]>',
        description: 'skill every interaction of the queue requires (repeatable)',
      },
      'sl-threshold': {
        type: 'string',
        value: '<duration>',
        description: 'service level: accepted within this time (default 4h)',
      },
      'sl-target': { type: 'string', value: '<percent>', description: 'service level: target percentage (default 80)' },
    },
    async run(context) {
      const { values } = context;
      const timeout = str(values, 'offer-timeout');
      const threshold = str(values, 'sl-threshold');
      const target = str(values, 'sl-target');
      const strategy = str(values, 'strategy');
      if (target !== undefined && threshold === undefined) throw new UsageError('--sl-target needs --sl-threshold');
      const response = await context.clients.router().createQueue({
        queueId: context.positionals[0] ?? '',
        queue: {
          queueId: '',
          displayName: requireStr(values, 'name'),
          description: str(values, 'description') ?? '',
          strategy: strategy
            ? parseEnum<QueueStrategy>(QueueStrategy, 'QUEUE_STRATEGY', strategy, '--strategy')
            : QueueStrategy.QUEUE_STRATEGY_UNSPECIFIED,
          requiredSkills: list(values, 'skill').map((text) => {
            const { skill, level } = parseSkill(text, '--skill');
            return { skill, minLevel: level };
          }),
          ...(timeout ? { offerTimeout: parseDuration(timeout, '--offer-timeout') } : {}),
          ...(threshold
            ? {
                serviceLevel: {
                  threshold: parseDuration(threshold, '--sl-threshold'),
                  targetPercent: target ? parseInteger(target, '--sl-target', 1, 100) : 0,
                },
              }
            : {}),
          escalationSteps: [],
          etag: '',
        },
      });
      const q = response.queue;
      context.print(
        CreateQueueResponse.toJSON(response),
        () =>
          `queue ${q?.queueId ?? ''} created (${enumLabel(QueueStrategy, 'QUEUE_STRATEGY', q?.strategy || QueueStrategy.QUEUE_STRATEGY_LONGEST_IDLE)}, offer timeout ${formatDuration(q?.offerTimeout) || '60s'})`,
      );
    },
  },
  {
    path: ['queue', 'list'],
    summary: 'list queues',
    async run(context) {
      const response = await context.clients.router().listQueues({ page: { pageSize: 500, pageToken: '' } });
      context.print(ListQueuesResponse.toJSON(response), () =>
        table(
          ['ID', 'NAME', 'STRATEGY', 'OFFER TIMEOUT', 'SKILLS'],
          response.queues.map((q) => [
            q.queueId,
            q.displayName,
            enumLabel(QueueStrategy, 'QUEUE_STRATEGY', q.strategy || QueueStrategy.QUEUE_STRATEGY_LONGEST_IDLE),
            formatDuration(q.offerTimeout) || '60s',
            q.requiredSkills.map((s) => `${s.skill}:${s.minLevel || 1}`).join(' '),
          ]),
        ),
      );
    },
  },
  {
    path: ['queue', 'stats'],
    summary: 'live queue statistics: waiting, offered, assigned, longest wait, service level, agents and capacity',
    args: ['[queue-id]'],
    options: { window: { type: 'string', value: '<duration>', description: 'window of the counters, 5m-24h (default 1h)' } },
    async run(context) {
      const window = str(context.values, 'window');
      const windowValue = window ? { window: parseDuration(window, '--window') } : {};
      const api = context.clients.router();
      const id = context.positionals[0];
      if (id) {
        const response = await api.getQueueStatistics({ queueId: id, ...windowValue });
        context.print(GetQueueStatisticsResponse.toJSON(response), () =>
          statisticsRows(response.statistics ? [response.statistics] : []),
        );
        return;
      }
      const response = await api.listQueueStatistics({ page: { pageSize: 500, pageToken: '' }, ...windowValue });
      context.print(ListQueueStatisticsResponse.toJSON(response), () => statisticsRows(response.statistics));
    },
  },
  {
    path: ['rule', 'create'],
    summary: 'create a routing rule (conditions are ANDed; repeated values of one condition are ORed)',
    args: ['<rule-id>'],
    options: {
      name: { type: 'string', value: '<text>', description: 'display name (required)' },
      queue: { type: 'string', value: '<queue-id>', description: 'route matching mail to this queue' },
      priority: { type: 'string', value: '<0-1000>', description: 'priority, higher is more urgent (default 100)' },
      skill: { type: 'string', multiple: true, value: '<skill[:level]>', description: 'skill an agent needs (repeatable)' },
      tag: { type: 'string', multiple: true, value: '<tag>', description: 'tag to put on the interaction (repeatable)' },
      discard: { type: 'boolean', description: 'close matching mail without an agent instead (e.g. auto-replies)' },
      reason: { type: 'string', value: '<text>', description: 'with --discard: why' },
      mailbox: { type: 'string', multiple: true, value: '<mailbox-id>', description: 'condition: arrived at this mailbox' },
      sender: { type: 'string', multiple: true, value: '<address>', description: 'condition: From address' },
      'sender-domain': {
        type: 'string',
        multiple: true,
        value: '<domain>',
        description: 'condition: sender domain (contoso.com or *.contoso.com)',
      },
      'sender-list': {
        type: 'string',
        multiple: true,
        value: '<list-id>',
        description: 'condition: sender is in this sender list',
      },
      recipient: { type: 'string', multiple: true, value: '<address>', description: 'condition: To/Cc contains this address' },
      'subject-contains': {
        type: 'string',
        multiple: true,
        value: '<text>',
        description: 'condition: subject contains (case-insensitive)',
      },
      'subject-regex': { type: 'string', multiple: true, value: '<re2>', description: 'condition: subject matches' },
      'body-contains': { type: 'string', multiple: true, value: '<text>', description: 'condition: body contains' },
      'body-regex': { type: 'string', multiple: true, value: '<re2>', description: 'condition: body matches' },
      language: { type: 'string', multiple: true, value: '<bcp47>', description: 'condition: language hint, e.g. de' },
      'has-attachments': { type: 'string', value: '<yes|no>', description: 'condition: with or without attachments' },
      automated: { type: 'string', value: '<yes|no>', description: 'condition: auto-reply, bounce, bulk …' },
      position: { type: 'string', value: '<n>', description: '0-based place in the evaluation order (default: last)' },
      disabled: { type: 'boolean', description: 'create it disabled' },
    },
    async run(context) {
      const { values } = context;
      const position = str(values, 'position');
      const response = await context.clients.router().createRoutingRule({
        ruleId: context.positionals[0] ?? '',
        rule: {
          ruleId: '',
          displayName: requireStr(values, 'name'),
          description: '',
          position: 0,
          ...(flag(values, 'disabled') ? { enabled: false } : {}),
          condition: ruleCondition(context),
          action: ruleAction(context),
          etag: '',
        },
        ...(position !== undefined ? { position: parseInteger(position, '--position', 0, 499) } : {}),
      });
      const rule = response.rule;
      context.print(CreateRoutingRuleResponse.toJSON(response), () =>
        rule ? `rule ${rule.ruleId} created: ${describeRule(rule)} ${describeAction(rule.action)}` : 'rule created',
      );
    },
  },
  {
    path: ['rule', 'list'],
    summary: 'list routing rules in evaluation order',
    async run(context) {
      const response = await context.clients.router().listRoutingRules({ page: { pageSize: 500, pageToken: '' } });
      context.print(ListRoutingRulesResponse.toJSON(response), () =>
        table(
          ['#', 'ID', 'NAME', 'ENABLED', 'WHEN', 'THEN'],
          // The list comes in evaluation order; its index is the rule's place in it.
          response.rules.map((r, index) => [
            index,
            r.ruleId,
            r.displayName,
            r.enabled === false ? 'no' : 'yes',
            describeRule(r),
            describeAction(r.action),
          ]),
        ),
      );
    },
  },
  {
    path: ['agent', 'create'],
    summary: 'create an agent (signs in with Microsoft: matched by Entra object id or user principal name)',
    args: ['<agent-id>'],
    options: {
      name: { type: 'string', value: '<text>', description: 'display name (required)' },
      upn: { type: 'string', value: '<user@domain>', description: "the agent's user principal name (or --object-id)" },
      'object-id': { type: 'string', value: '<guid>', description: "the agent's Entra object id" },
      queue: { type: 'string', multiple: true, value: '<queue-id>', description: 'queue the agent takes work from (repeatable)' },
      skill: { type: 'string', multiple: true, value: '<skill[:level]>', description: 'skill with level 1-10 (repeatable)' },
      capacity: { type: 'string', value: '<1-50>', description: 'concurrent interactions (default 5)' },
      disabled: { type: 'boolean', description: 'create it disabled' },
    },
    async run(context) {
      const { values } = context;
      const upn = str(values, 'upn') ?? '';
      const objectId = str(values, 'object-id') ?? '';
      if (!upn && !objectId) throw new UsageError('--upn or --object-id is required (how the agent is recognised at sign-in)');
      const capacity = str(values, 'capacity');
      const response = await context.clients.router().createAgent({
        agentId: context.positionals[0] ?? '',
        agent: {
          agentId: '',
          displayName: requireStr(values, 'name'),
          entraObjectId: objectId,
          userPrincipalName: upn,
          skills: list(values, 'skill').map((text) => parseSkill(text, '--skill')),
          queueIds: list(values, 'queue'),
          capacity: capacity ? parseInteger(capacity, '--capacity', 1, 50) : 0,
          ...(flag(values, 'disabled') ? { enabled: false } : {}),
          etag: '',
        },
      });
      const agent = response.agent;
      context.print(
        CreateAgentResponse.toJSON(response),
        () =>
          `agent ${agent?.agentId ?? ''} created (queues ${agent?.queueIds.join(', ') || 'none'}, capacity ${agent?.capacity || 5})`,
      );
    },
  },
  {
    path: ['agent', 'list'],
    summary: "agents' live status: presence, connection, load",
    options: {
      queue: { type: 'string', value: '<queue-id>', description: 'only members of this queue' },
      presence: {
        type: 'string',
        value: `<${enumChoices(AgentPresence, 'AGENT_PRESENCE').join('|')}>`,
        description: 'only agents with this presence',
      },
    },
    async run(context) {
      const presence = str(context.values, 'presence');
      const response = await context.clients.router().listAgentStatuses({
        page: { pageSize: 500, pageToken: '' },
        queueId: str(context.values, 'queue') ?? '',
        presence: presence
          ? parseEnum<AgentPresence>(AgentPresence, 'AGENT_PRESENCE', presence, '--presence')
          : AgentPresence.AGENT_PRESENCE_UNSPECIFIED,
      });
      context.print(ListAgentStatusesResponse.toJSON(response), () =>
        table(
          ['AGENT', 'NAME', 'PRESENCE', 'CONNECTED', 'ACTIVE/CAPACITY', 'OFFERS', 'SINCE', 'QUEUES'],
          response.statuses.map((s) => [
            s.agentId,
            s.displayName,
            `${presenceLabel(s.presence)}${s.presenceReason ? ` (${s.presenceReason})` : ''}`,
            s.connected ? 'yes' : 'no',
            `${s.activeInteractions}/${s.capacity}`,
            s.pendingOffers,
            formatTime(s.presenceSince),
            s.queueIds.join(','),
          ]),
        ),
      );
    },
  },
];
