import {
  GetInteractionResponse,
  InteractionOrder,
  InteractionState,
  ListInteractionMessagesResponse,
  SearchInteractionsResponse,
  SendState,
  SlaState,
  type Interaction,
  type ThreadMessage,
} from '@mailroute/contracts';
import { Status } from 'nice-grpc-common';
import { flag, list, str, type Command } from '../command';
import { CallFailedError } from '../errors';
import { formatTime, keyValues, table, terminalSafe, truncate } from '../format';
import { enumChoices, enumLabel, parseEnum, parseInstant, parseInteger } from '../values';
import { interactionAttachmentCommand } from './interaction-attachment.command';

export const stateLabel = (value: number) => enumLabel(InteractionState, 'INTERACTION_STATE', value);

/** One line per interaction, for the search table and the agent desktop. */
export function interactionRow(i: Interaction): (string | number)[] {
  return [
    i.interactionId,
    stateLabel(i.state),
    i.queueId,
    i.agentId || i.offeredAgentId,
    i.customer?.address ?? '',
    truncate(i.subject, 50),
    formatTime(i.receivedAt),
  ];
}

export const interactionHeaders = ['INTERACTION', 'STATE', 'QUEUE', 'AGENT', 'CUSTOMER', 'SUBJECT', 'RECEIVED'];

function interactionView(i: Interaction | undefined): string {
  if (!i) return 'no interaction returned';
  return keyValues([
    ['interaction', i.interactionId],
    ['state', stateLabel(i.state)],
    ['mailbox', `${i.mailboxId} <${i.mailboxAddress}>`],
    ['queue', i.queueId],
    ['agent', i.agentId],
    ['offered to', i.offeredAgentId],
    ['priority', `${i.priority} (effective ${i.effectivePriority})`],
    ['customer', i.customer ? `${i.customer.name ? `${i.customer.name} ` : ''}<${i.customer.address}>` : ''],
    ['subject', i.subject],
    ['reference', i.reference],
    ['tags', i.tags.join(', ')],
    ['rule', i.matchedRuleId],
    ['messages', `${i.inboundMessageCount} in, ${i.replyCount} replies sent`],
    ['received', formatTime(i.receivedAt)],
    ['queued', formatTime(i.queuedAt)],
    ['assigned', formatTime(i.assignedAt)],
    ['closed', formatTime(i.closedAt)],
    [
      'first response due',
      i.serviceLevelDueAt
        ? `${formatTime(i.serviceLevelDueAt)}${i.slaState ? ` (${enumLabel(SlaState, 'SLA_STATE', i.slaState)})` : ''}`
        : '',
    ],
    ['version', i.version],
  ]);
}

/** The thread, oldest first: customer messages as text (never raw HTML), replies with their send state. */
export function threadView(messages: readonly ThreadMessage[]): string {
  return messages
    .map((entry) => {
      const m = entry.message;
      if (!m) return '';
      if (m.$case === 'inbound') {
        const msg = m.value.message;
        // The ids `interaction attachment <interaction> <message> <attachment>` takes.
        const attachments = (msg?.attachments ?? []).map(
          (a) =>
            `attachment ${msg?.graphMessageId ?? ''} ${a.attachmentId}: ${a.name} (${a.sizeBytes} bytes${a.contentStored ? '' : ', content not stored'})`,
        );
        return [
          `── from ${msg?.from?.address ?? '?'} at ${formatTime(msg?.receivedAt)}: ${msg?.subject ?? ''}`,
          msg?.bodyText ?? '',
          ...attachments,
        ]
          .map(terminalSafeBlock)
          .join('\n');
      }
      return [
        `── reply ${m.value.sendId} by ${m.value.sentBy?.displayName || m.value.sentBy?.id || '?'} at ${formatTime(m.value.requestedAt)} [${enumLabel(SendState, 'SEND_STATE', m.value.sendState)}]`,
        m.value.content?.bodyText ?? '',
      ]
        .map(terminalSafeBlock)
        .join('\n');
    })
    .join('\n\n');
}

/** Like terminalSafe, but keeps line breaks of a body. */
function terminalSafeBlock(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => terminalSafe(line))
    .join('\n');
}

export const interactionCommands: Command[] = [
  {
    path: ['interaction', 'search'],
    summary: 'find interactions by state, queue, agent, mailbox, customer, subject and time',
    options: {
      state: {
        type: 'string',
        multiple: true,
        value: '<state>',
        description: `in this state (repeatable): ${enumChoices(InteractionState, 'INTERACTION_STATE').join(', ')}`,
      },
      queue: { type: 'string', multiple: true, value: '<queue-id>', description: 'in this queue (repeatable)' },
      agent: {
        type: 'string',
        multiple: true,
        value: '<agent-id>',
        description: 'held by or offered to this agent (repeatable)',
      },
      mailbox: { type: 'string', multiple: true, value: '<mailbox-id>', description: 'arrived at this mailbox (repeatable)' },
      customer: { type: 'string', value: '<address>', description: "the customer's address" },
      subject: { type: 'string', value: '<text>', description: 'subject contains' },
      reference: {
        type: 'string',
        value: '<ABC-1234>',
        description: 'the interaction with this reference (from its acknowledgement; other filters are ignored)',
      },
      tag: { type: 'string', multiple: true, value: '<tag>', description: 'carries this tag (repeatable)' },
      sla: {
        type: 'string',
        multiple: true,
        value: '<sla-state>',
        description: `in this SLA state now (repeatable): ${enumChoices(SlaState, 'SLA_STATE').join(', ')}`,
      },
      since: { type: 'string', value: '<date>', description: 'received at or after (2026-11-01 or 2026-11-01T08:00:00Z)' },
      until: { type: 'string', value: '<date>', description: 'received before' },
      oldest: { type: 'boolean', description: 'oldest first (default newest first)' },
      limit: { type: 'string', value: '<n>', description: 'at most this many (default 50, at most 500)' },
    },
    async run(context) {
      const { values } = context;
      const since = str(values, 'since');
      const until = str(values, 'until');
      const limit = str(values, 'limit');
      const response = await context.clients.router().searchInteractions({
        page: { pageSize: limit ? parseInteger(limit, '--limit', 1, 500) : 50, pageToken: '' },
        filter: {
          states: list(values, 'state').map((text) =>
            parseEnum<InteractionState>(InteractionState, 'INTERACTION_STATE', text, '--state'),
          ),
          queueIds: list(values, 'queue'),
          agentIds: list(values, 'agent'),
          mailboxIds: list(values, 'mailbox'),
          customerAddress: str(values, 'customer') ?? '',
          conversationId: '',
          internetMessageId: '',
          subjectContains: str(values, 'subject') ?? '',
          tags: list(values, 'tag'),
          slaStates: list(values, 'sla').map((text) => parseEnum<SlaState>(SlaState, 'SLA_STATE', text, '--sla')),
          reference: str(values, 'reference') ?? '',
          ...(since ? { receivedAfter: parseInstant(since, '--since', context.now()) } : {}),
          ...(until ? { receivedBefore: parseInstant(until, '--until', context.now()) } : {}),
        },
        order: flag(values, 'oldest')
          ? InteractionOrder.INTERACTION_ORDER_RECEIVED_ASC
          : InteractionOrder.INTERACTION_ORDER_RECEIVED_DESC,
      });
      context.print(SearchInteractionsResponse.toJSON(response), () => {
        const shown = table(interactionHeaders, response.interactions.map(interactionRow));
        return response.nextPageToken ? `${shown}\n(more: raise --limit or narrow the filter)` : shown;
      });
    },
  },
  {
    path: ['interaction', 'show'],
    summary: 'show one interaction; --messages adds its thread',
    args: ['<interaction-id>'],
    options: { messages: { type: 'boolean', description: 'also list the customer messages and replies' } },
    async run(context) {
      const id = context.positionals[0] ?? '';
      const api = context.clients.router();
      const response = await api.getInteraction({ interactionId: id });
      if (!flag(context.values, 'messages')) {
        context.print(GetInteractionResponse.toJSON(response), () => interactionView(response.interaction));
        return;
      }
      const messages = await api
        .listInteractionMessages({ interactionId: id, page: { pageSize: 20, pageToken: '' } })
        .catch((error: unknown) => {
          // Routers that do not serve the thread to supervisors yet answer UNIMPLEMENTED: still show the interaction.
          if (error instanceof CallFailedError && error.clientError.code === Status.UNIMPLEMENTED) return undefined;
          throw error;
        });
      if (!messages) {
        context.io.stderr(
          `note: this interaction-router does not list messages to supervisors yet (${Status[Status.UNIMPLEMENTED]})`,
        );
        context.print(GetInteractionResponse.toJSON(response), () => interactionView(response.interaction));
        return;
      }
      context.print(
        { ...(GetInteractionResponse.toJSON(response) as object), messages: ListInteractionMessagesResponse.toJSON(messages) },
        () => `${interactionView(response.interaction)}\n\n${threadView(messages.messages)}`,
      );
    },
  },
  interactionAttachmentCommand,
];
