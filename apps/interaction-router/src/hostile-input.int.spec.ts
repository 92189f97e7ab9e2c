import { Status, type ClientError } from 'nice-grpc';
import {
  AgentDesktopServiceDefinition,
  AgentPresence,
  InteractionRouterServiceDefinition,
  InteractionState,
} from '@mailroute/contracts';
import { idRuleOf, requestDescriptorOf, tsProtoName } from '@mailroute/platform';
import { randomId, testInfra } from '@mailroute/testing';
import { createTestIdentityProvider, startHarness, type Harness } from '../test/router-harness';

/**
 * Hostile input on the router's two services over a real socket (real Kafka and FerretDB): an id of
 * a megabyte in any id field, and enum numbers the proto does not define. Each must be refused with
 * INVALID_ARGUMENT naming the field, in a short message, and the caller's channel must keep working
 * (a megabyte `grpc-message` trailer makes grpc-js tear down the whole HTTP/2 session).
 */
interface Method {
  service: 'admin' | 'desktop';
  name: string;
  key: string;
  path: string;
  requestType: { fromPartial(value: unknown): object };
  requestStream: boolean;
  responseStream: boolean;
}

const methods: Method[] = [
  ...Object.entries(InteractionRouterServiceDefinition.methods).map(([key, m]) => ({
    service: 'admin' as const,
    key,
    path: `/${InteractionRouterServiceDefinition.fullName}/${m.name}`,
    ...(m as unknown as Omit<Method, 'service' | 'key' | 'path'>),
  })),
  ...Object.entries(AgentDesktopServiceDefinition.methods).map(([key, m]) => ({
    service: 'desktop' as const,
    key,
    path: `/${AgentDesktopServiceDefinition.fullName}/${m.name}`,
    ...(m as unknown as Omit<Method, 'service' | 'key' | 'path'>),
  })),
];

const megabyte = 'x'.repeat(1024 * 1024);
/** A number the proto's enum does not define, as a client can send it. */
const undefinedEnum = (value: number) => value as never;

/** Top-level id fields of each method's request (a oneof member as `{ oneof, name }`), from the descriptors. */
const idCases = methods.flatMap((method) => {
  const descriptor = requestDescriptorOf(method.path);
  if (!descriptor || method.requestStream) return [];
  return descriptor.fields
    .filter((field) => field.fieldKind === 'scalar' && idRuleOf(field.name))
    .map((field) => ({ method, field: field.name, oneof: field.oneof?.name }));
});

describe('hostile input on the router', () => {
  const tenant = randomId('hostile');
  const directory = randomId('dir-hostile');
  let harness: Harness;
  let token = '';

  beforeAll(async () => {
    const idp = await createTestIdentityProvider(new Map([[directory, tenant]]));
    harness = await startHarness({ infra: testInfra(), replicas: 1, tenants: [tenant], verifier: idp.verifier });
    await harness.admin(tenant).createQueue({ queueId: 'support', queue: { displayName: 'Support' } });
    await harness.admin(tenant).createAgent({
      agentId: 'anna',
      agent: { displayName: 'Anna', entraObjectId: 'oid-anna', queueIds: ['support'], capacity: 2, skills: [] },
    });
    token = await idp.token(directory, 'oid-anna');
  });

  afterAll(async () => {
    await harness?.close();
  });

  async function call(
    method: Method,
    request: object,
    client: Record<string, (...args: unknown[]) => unknown>,
  ): Promise<ClientError | undefined> {
    const invoke = client[method.key];
    if (!invoke) throw new Error(`client has no ${method.key}`);
    try {
      if (method.responseStream) {
        for await (const _message of invoke.call(client, request) as AsyncIterable<unknown>) break;
      } else {
        await invoke.call(client, request);
      }
      return undefined;
    } catch (error) {
      return error as ClientError;
    }
  }

  it('covers the router RPCs that take an id', () => {
    expect(new Set(idCases.map((c) => c.method.name)).size).toBeGreaterThanOrEqual(30);
  });

  it.each(idCases.map((c) => [`${c.method.name}.${c.field}`, c] as const))(
    '%s: a 1 MB id is INVALID_ARGUMENT naming the field, and the channel keeps working',
    async (_label, { method, field, oneof }) => {
      // One client, so one channel: the follow-up call proves the HTTP/2 session survived.
      const client = (method.service === 'admin' ? harness.admin(tenant) : harness.desktop(token)) as unknown as Record<
        string,
        (...args: unknown[]) => unknown
      >;
      const value = oneof
        ? { [tsProtoName(oneof)]: { $case: tsProtoName(field), value: megabyte } }
        : { [tsProtoName(field)]: megabyte };
      const request = method.requestType.fromPartial({ interactionId: 'ixn-1', ...value });
      const error = await call(method, request, client);
      expect({ code: error?.code, starts: error?.details.startsWith(`${field}:`) }).toEqual({
        code: Status.INVALID_ARGUMENT,
        starts: true,
      });
      expect(error?.details.length).toBeLessThan(1024);
      const followUp =
        method.service === 'admin'
          ? (client['getQueue']?.({ queueId: 'support' }) as Promise<unknown>)
          : (client['setPresence']?.({ presence: AgentPresence.AGENT_PRESENCE_AVAILABLE }) as Promise<unknown>);
      await expect(followUp).resolves.toBeDefined();
    },
  );

  it('answers NOT_FOUND for a long unknown id with a short message', async () => {
    const admin = harness.admin(tenant);
    const error = await admin.getInteraction({ interactionId: `ixn-${'a'.repeat(136)}` }).catch((e: unknown) => e as ClientError);
    expect((error as ClientError).code).toBe(Status.NOT_FOUND);
    expect((error as ClientError).details.length).toBeLessThan(120);
  });

  it.each([
    [
      'SearchInteractions',
      'filter.states[0]',
      () => harness.admin(tenant).searchInteractions({ filter: { states: [undefinedEnum(99)] } }),
    ],
    [
      'SearchInteractions',
      'filter.states[1]',
      () =>
        harness
          .admin(tenant)
          .searchInteractions({ filter: { states: [InteractionState.INTERACTION_STATE_QUEUED, undefinedEnum(-1)] } }),
    ],
    ['ListAgentStatuses', 'presence', () => harness.admin(tenant).listAgentStatuses({ presence: undefinedEnum(42) })],
    [
      'SetAgentPresence',
      'presence',
      () => harness.admin(tenant).setAgentPresence({ agentId: 'anna', presence: undefinedEnum(99) }),
    ],
    ['ListMyInteractions', 'states[0]', () => harness.desktop(token).listMyInteractions({ states: [undefinedEnum(99)] })],
    ['ListTransferTargets', 'kind', () => harness.desktop(token).listTransferTargets({ kind: undefinedEnum(7) })],
    ['SetPresence', 'presence', () => harness.desktop(token).setPresence({ presence: undefinedEnum(-1) })],
    [
      'Connect',
      'initial_presence',
      async () => {
        for await (const _event of harness
          .desktop(token)
          .connect({ clientInstanceId: 'desk-hostile', initialPresence: undefinedEnum(99) }))
          break;
      },
    ],
  ] as const)('%s refuses an enum value outside the proto (%s)', async (_method, field, run) => {
    const error = (await (run as () => Promise<unknown>)().then(
      () => undefined,
      (e: unknown) => e as ClientError,
    )) as ClientError | undefined;
    expect({ code: error?.code, details: error?.details.split(':')[0] }).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: field,
    });
  });
});
