import { Writable } from 'node:stream';
import { Agent, InboundEmail, Queue, RoutingRule, type InteractionStateChanged } from '@mailroute/contracts';
import { events, type EventBus, type OutgoingMessage } from '@mailroute/messaging';
import { createLogger } from '@mailroute/platform';
import type { InteractionRecord } from '@mailroute/persistence';
import { createRouterCore, type RouterCore, type RouterCoreOptions } from '../src/routing/router-core';
import { openEmbeddedRouterStores } from '../src/store/embedded-router-stores';
import { agentKey } from '../src/store/router-keys';
import type { RouterStores } from '../src/store/router-stores';

/** A logger that writes nowhere (unit specs assert behaviour, not log lines). */
export const silentLogger = createLogger({
  name: 'router-spec',
  level: 'fatal',
  destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
});

/** An in-process bus fake for unit specs: records what is published; `hold()` makes publishing hang until `release()`. */
export function createRecordingBus() {
  const published: { topic: string; message: OutgoingMessage }[] = [];
  let held: Promise<void> | undefined;
  let release: () => void = () => undefined;
  const bus: EventBus = {
    ensureTopics: async () => undefined,
    async publish(topic, messages) {
      if (held) await held;
      for (const message of Array.isArray(messages) ? messages : [messages]) published.push({ topic, message });
    },
    subscribe: async () => {
      throw new Error('the recording bus has no consumers');
    },
    close: async () => undefined,
  };
  return {
    bus,
    published,
    /** The InteractionStateChanged events published so far. */
    stateChanges(): InteractionStateChanged[] {
      return published
        .filter((p) => p.topic === events.interactionStateChanged.topic)
        .map((p) => events.interactionStateChanged.codec.decode(p.message.value));
    },
    hold(): void {
      held = new Promise((resolve) => (release = resolve));
    },
    release(): void {
      held = undefined;
      release();
    },
  };
}

export interface TestCore {
  core: RouterCore;
  stores: RouterStores;
  bus: ReturnType<typeof createRecordingBus>;
  /** The core's clock (epoch ms); `advance` moves it. */
  now(): number;
  advance(ms: number): void;
  addQueue(tenantId: string, queueId: string, queue?: Partial<Queue>): Promise<void>;
  addRule(tenantId: string, ruleId: string, rule: Partial<RoutingRule>): Promise<void>;
  addAgent(tenantId: string, agentId: string, agent?: Partial<Agent>): Promise<void>;
  /** A desktop session seen now, so the agent is connected (AVAILABLE). */
  connect(tenantId: string, agentId: string): Promise<void>;
  inbound(event: Partial<InboundEmail> & { tenantId: string; interactionId: string }): InboundEmail;
  /**
   * Tenant `t1` with queue `q` (offer timeout 10 s), a rule routing subjects with "help" there, and
   * agent `alice` (capacity 1, connected), then `interactionId` taken in, planned and accepted by her.
   */
  assignedToAlice(interactionId: string, message?: Record<string, unknown>): Promise<InteractionRecord>;
  close(): Promise<void>;
}

/**
 * The router core over the embedded stores (in memory: the adapter that passes the same contract
 * suites as MongoDB) and a recording bus, with a clock the spec moves.
 */
export function createTestCore(options: Partial<RouterCoreOptions> = {}): TestCore {
  const stores = openEmbeddedRouterStores(':memory:');
  const bus = createRecordingBus();
  let now = Date.UTC(2026, 0, 5, 9, 0, 0);
  const clock = () => now;
  const core = createRouterCore({ stores, bus: bus.bus, logger: silentLogger, clock, publishWaitMs: 50, ...options });
  const write = async (tenantId: string, kind: 'queue' | 'rule' | 'agent', id: string, value: unknown) => {
    await core.config.write(tenantId, kind, id, 0, value as never, now, now);
    core.invalidateRules(tenantId);
  };
  return {
    core,
    stores,
    bus,
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    addQueue: (tenantId, queueId, queue = {}) =>
      write(tenantId, 'queue', queueId, Queue.fromPartial({ queueId, displayName: queueId, ...queue })),
    addRule: (tenantId, ruleId, rule) => write(tenantId, 'rule', ruleId, RoutingRule.fromPartial({ ruleId, ...rule })),
    addAgent: (tenantId, agentId, agent = {}) =>
      write(
        tenantId,
        'agent',
        agentId,
        Agent.fromPartial({ agentId, displayName: agentId, entraObjectId: `oid-${agentId}`, capacity: 1, ...agent }),
      ),
    connect: (tenantId, agentId) =>
      stores.sessions.put(agentKey(tenantId, agentId), { replicaId: 'spec', clientInstanceId: 'spec', lastSeenAt: now }),
    inbound: (event) =>
      InboundEmail.fromPartial({
        mailboxId: 'support',
        mailboxAddress: 'support@contoso.test',
        occurredAt: new Date(now),
        message: { subject: 'Hello', from: { address: 'customer@example.test', name: 'Customer' } } as never,
        ...event,
      }),
    async assignedToAlice(interactionId, message = {}) {
      await this.addQueue('t1', 'q', { offerTimeout: { seconds: 10, nanos: 0 } });
      await this.addRule('t1', 'help', subjectRule('help', 'q'));
      await this.addAgent('t1', 'alice', { queueIds: ['q'] });
      await this.connect('t1', 'alice');
      await core.intake(
        this.inbound({ tenantId: 't1', interactionId, message: { subject: 'help please', ...message } as never }),
      );
      await core.planTenant('t1');
      const offered = await stores.interactions.get('t1', interactionId);
      if (!offered) throw new Error(`${interactionId} was not taken in`);
      const accepted = await core.applyChange(offered, { type: 'accept', at: now, agentId: 'alice' });
      if (!accepted) throw new Error(`${interactionId} was not accepted`);
      await core.markSlotAssigned('t1', 'alice', interactionId);
      return accepted;
    },
    close: () => stores.close(),
  };
}

/** A rule routing subjects that contain `word` to `queueId`. */
export function subjectRule(word: string, queueId: string, priority = 100): Partial<RoutingRule> {
  return {
    displayName: word,
    enabled: true,
    condition: { subjectPatterns: [{ pattern: { $case: 'contains', value: word } }] } as never,
    action: { action: { $case: 'route', value: { queueId, priority, requiredSkills: [], tags: [word] } } } as never,
  };
}
