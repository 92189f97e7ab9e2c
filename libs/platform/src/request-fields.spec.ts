import * as contracts from '@mailroute/contracts';
import { AgentPresence, InteractionState } from '@mailroute/contracts';
import type { DescMessage } from '@bufbuild/protobuf';
import { Status } from 'nice-grpc-common';
import { NotFoundError, ValidationError } from './errors';
import { capStatusMessage, maxStatusMessageLength, toGrpcStatus } from './grpc-status';
import { readEnum, readUpdateMask, requestDescriptorOf, tsProtoName, validateRequestFields } from './request-fields';

const megabyte = 'x'.repeat(1024 * 1024);

function descriptor(path: string): DescMessage {
  const found = requestDescriptorOf(path);
  if (!found) throw new Error(`no descriptor for ${path}`);
  return found;
}

/** The ValidationError `validateRequestFields` throws for `request` on `path`, or undefined. */
function problem(path: string, request: unknown): ValidationError | undefined {
  try {
    validateRequestFields(descriptor(path), request);
    return undefined;
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
}

describe('validateRequestFields (every request, from its proto descriptor)', () => {
  it.each([
    ['/mailroute.v1.InteractionRouterService/GetQueue', { queueId: megabyte }, 'queue_id'],
    ['/mailroute.v1.InteractionRouterService/GetInteraction', { interactionId: megabyte }, 'interaction_id'],
    ['/mailroute.v1.InteractionRouterService/CompleteInteraction', { interactionId: 'ixn-1\u0000' }, 'interaction_id'],
    [
      '/mailroute.v1.InteractionRouterService/TransferInteraction',
      { interactionId: 'ixn-1', target: { target: { $case: 'queueId', value: 'Q/../x' } } },
      'target.queue_id',
    ],
    [
      '/mailroute.v1.InteractionRouterService/SearchInteractions',
      { filter: { queueIds: ['support', megabyte] } },
      'filter.queue_ids[1]',
    ],
    ['/mailroute.v1.InteractionRouterService/ListQueues', { page: { pageToken: megabyte } }, 'page.page_token'],
    ['/mailroute.v1.AgentDesktopService/Accept', { offerId: 'a b' }, 'offer_id'],
    ['/mailroute.v1.MailboxFetchService/GetMailbox', { mailboxId: 'Support' }, 'mailbox_id'],
    ['/mailroute.v1.AccessTokenService/GetAccessToken', { tenantId: 'a/b' }, 'tenant_id'],
    ['/mailroute.v1.OutboundSendService/GetSendStatus', { key: { $case: 'sendId', value: megabyte } }, 'send_id'],
    [
      '/mailroute.v1.OutboundSendService/SendReply',
      { idempotencyKey: 'k', interactionId: 'i', content: { attachments: [{ source: { $case: 'uploadId', value: '\n' } }] } },
      'content.attachments[0].upload_id',
    ],
  ])('%s refuses a malformed id in %j, naming the field and not echoing the value', (path, request, field) => {
    const error = problem(path, request);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error?.field).toBe(field);
    expect(error?.message.length).toBeLessThan(300);
  });

  it.each([
    [
      '/mailroute.v1.InteractionRouterService/SearchInteractions',
      { filter: { states: [InteractionState.INTERACTION_STATE_QUEUED, 99] } },
      'filter.states[1]',
    ],
    ['/mailroute.v1.InteractionRouterService/SearchInteractions', { filter: { states: [-1] } }, 'filter.states[0]'],
    ['/mailroute.v1.AgentDesktopService/ListMyInteractions', { states: [99] }, 'states[0]'],
    ['/mailroute.v1.AgentDesktopService/ListTransferTargets', { kind: 7 }, 'kind'],
    ['/mailroute.v1.AgentDesktopService/SetPresence', { presence: -1 }, 'presence'],
    ['/mailroute.v1.AgentDesktopService/Connect', { clientInstanceId: 'desk-1', initialPresence: 99 }, 'initial_presence'],
    ['/mailroute.v1.InteractionRouterService/ListAgentStatuses', { presence: 42 }, 'presence'],
    ['/mailroute.v1.MailboxFetchService/ListMailboxes', { syncState: 99 }, 'sync_state'],
    ['/mailroute.v1.AuthBrokerService/ListTenantCredentials', { state: -5 }, 'state'],
    ['/mailroute.v1.OutboundSendService/SendReply', { content: { importance: 9 } }, 'content.importance'],
    [
      '/mailroute.v1.InteractionRouterService/CreateRoutingRule',
      { rule: { condition: { importances: [1, 77] } } },
      'rule.condition.importances[1]',
    ],
  ])('%s refuses an enum value outside the proto in %j', (path, request, field) => {
    expect(problem(path, request)?.field).toBe(field);
  });

  it('refuses update_mask paths that are not fields of the resource, and "*" with others', () => {
    expect(
      problem('/mailroute.v1.MailboxFetchService/UpdateMailbox', {
        mailboxId: 'support',
        mailbox: {},
        updateMask: ['display_name', 'no_such_field'],
      })?.message,
    ).toBe('update_mask: "no_such_field" is not a field of Mailbox');
    expect(
      problem('/mailroute.v1.InteractionRouterService/UpdateQueue', {
        queueId: 'q',
        queue: {},
        updateMask: ['display_name.first'],
      })?.field,
    ).toBe('update_mask');
    expect(
      problem('/mailroute.v1.AuthBrokerService/UpdateTenantCredentials', {
        credentialsId: 'default',
        spec: {},
        updateMask: ['*', 'cloud'],
      })?.field,
    ).toBe('update_mask');
    expect(
      problem('/mailroute.v1.InteractionRouterService/UpdateQueue', { queueId: 'q', queue: {}, updateMask: [megabyte] })?.message
        .length,
    ).toBeLessThan(200);
  });

  it('accepts well-formed requests, nested masks and empty (unset) fields', () => {
    expect(
      problem('/mailroute.v1.InteractionRouterService/UpdateQueue', {
        queueId: 'support',
        queue: {},
        updateMask: ['service_level.target_percent', 'display_name'],
      }),
    ).toBeUndefined();
    expect(
      problem('/mailroute.v1.InteractionRouterService/SearchInteractions', {
        filter: { states: [InteractionState.INTERACTION_STATE_QUEUED], queueIds: ['support'], conversationId: 'AAQkAGI2=' },
      }),
    ).toBeUndefined();
    expect(problem('/mailroute.v1.AgentDesktopService/Accept', { offerId: 'ixn-0123456789abcdef~12' })).toBeUndefined();
    expect(
      problem('/mailroute.v1.AgentDesktopService/Connect', {
        clientInstanceId: '',
        initialPresence: AgentPresence.AGENT_PRESENCE_AVAILABLE,
      }),
    ).toBeUndefined();
    expect(requestDescriptorOf('/grpc.health.v1.Health/Check')).toBeUndefined();
  });

  it('reads each field under the property name ts-proto generates for it', () => {
    // Every request message and every message reachable from one: the walker must look where ts-proto puts a field.
    const seen = new Set<string>();
    const visit = (message: DescMessage): void => {
      if (seen.has(message.typeName) || message.typeName.startsWith('google.protobuf.')) return;
      seen.add(message.typeName);
      const codec = (contracts as unknown as Record<string, { fromPartial?: (value: object) => object }>)[message.name];
      const keys = Object.keys(codec?.fromPartial?.({}) ?? {});
      for (const field of message.fields) {
        const expected = field.oneof ? tsProtoName(field.oneof.name) : tsProtoName(field.name);
        // Message-typed fields (and oneofs) are optional properties: absent from an empty message.
        if (field.oneof === undefined && field.fieldKind !== 'message')
          expect({ message: message.typeName, key: keys.includes(expected) ? expected : undefined }).toEqual({
            message: message.typeName,
            key: expected,
          });
        if (field.fieldKind === 'message' || (field.fieldKind === 'list' && field.listKind === 'message')) visit(field.message);
      }
    };
    for (const definition of [
      contracts.InteractionRouterServiceDefinition,
      contracts.AgentDesktopServiceDefinition,
      contracts.MailboxFetchServiceDefinition,
      contracts.OutboundSendServiceDefinition,
      contracts.AuthBrokerServiceDefinition,
      contracts.AccessTokenServiceDefinition,
    ]) {
      for (const method of Object.values(definition.methods)) visit(descriptor(`/${definition.fullName}/${method.name}`));
    }
    expect(seen.size).toBeGreaterThan(60);
  });
});

describe('readEnum and readUpdateMask', () => {
  it('accepts only the numbers an enum defines', () => {
    expect(readEnum(AgentPresence, AgentPresence.AGENT_PRESENCE_AWAY, 'presence')).toBe(AgentPresence.AGENT_PRESENCE_AWAY);
    expect(() => readEnum(AgentPresence, AgentPresence.UNRECOGNIZED, 'presence')).toThrow('presence: -1 is not a defined value');
    expect(() => readEnum(AgentPresence, 99, 'presence')).toThrow(ValidationError);
  });

  it('expands "*", and refuses unknown, read-only and oversized paths without echoing them in full', () => {
    const writable = ['display_name', 'enabled', 'service_level'];
    expect(readUpdateMask(['*'], writable)).toEqual(writable);
    expect(readUpdateMask(['service_level.target_percent'], writable, { subPaths: true })).toEqual([
      'service_level.target_percent',
    ]);
    expect(() => readUpdateMask(['service_level.target_percent'], writable)).toThrow(
      'update_mask: "service_level.target_percent" is not a writable field',
    );
    expect(() => readUpdateMask(['etag'], writable)).toThrow(
      'update_mask: "etag" is not a writable field; writable: display_name, enabled, service_level',
    );
    expect(() => readUpdateMask([], writable)).toThrow('update_mask: is required');
    let message = '';
    try {
      readUpdateMask([megabyte], writable);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.length).toBeGreaterThan(0);
    expect(message.length).toBeLessThan(200);
  });
});

describe('error messages carry no unbounded caller text', () => {
  it('quotes at most 80 characters of an id in NOT_FOUND', () => {
    const mapped = toGrpcStatus(new NotFoundError('interaction', megabyte));
    expect(mapped.status).toBe(Status.NOT_FOUND);
    expect(mapped.message).toBe(`interaction "${'x'.repeat(80)}"… not found`);
  });

  it('caps every status message the mapper produces, whoever built it', () => {
    expect(toGrpcStatus(new ValidationError('note', megabyte)).message).toHaveLength(maxStatusMessageLength);
    expect(capStatusMessage('short')).toBe('short');
    expect([...capStatusMessage('é'.repeat(5000))]).toHaveLength(maxStatusMessageLength);
  });
});
