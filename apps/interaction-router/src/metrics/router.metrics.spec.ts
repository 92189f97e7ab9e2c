import { Writable } from 'node:stream';
import { InteractionState, StateChangeReason } from '@mailroute/contracts';
import type { InteractionHistoryRecord, InteractionRecord } from '@mailroute/persistence';
import { createLogger, startMetrics, type Metrics } from '@mailroute/platform';
import { metricValue, scrapeMetrics } from '@mailroute/testing';
import { createRouterMetrics, type RouterMetricsDeps } from './router.metrics';

const S = InteractionState;
const R = StateChangeReason;
const logger = createLogger({
  name: 'router-metrics-spec',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});

function change(
  reason: StateChangeReason,
  state: InteractionState,
  queueId: string,
  interaction: Partial<InteractionRecord> = {},
): InteractionHistoryRecord {
  return {
    tenantId: 't1',
    interactionId: 'ix-secret-id',
    version: 2,
    occurredAt: 0,
    previousState: S.INTERACTION_STATE_QUEUED,
    state,
    reason,
    actor: { kind: 1, id: '', displayName: '' } as never,
    queueId,
    agentId: '',
    note: '',
    interaction: { matchedRuleId: '', ...interaction } as InteractionRecord,
  };
}

describe('the router counters (RouterCoreOptions.onCommitted)', () => {
  let metrics: Metrics;
  beforeEach(async () => {
    metrics = await startMetrics({ serviceName: 'interaction-router', port: 0 });
  });
  afterEach(() => metrics.shutdown());

  it('counts each kind of committed change once, by tenant and queue, and ignores the rest', async () => {
    // The counters need no store: the snapshot loop is not started.
    const routerMetrics = createRouterMetrics({
      meter: metrics.meter,
      stores: {} as RouterMetricsDeps['stores'],
      logger,
      replicaId: 'r1',
    });
    const changes = [
      change(R.STATE_CHANGE_REASON_RECEIVED, S.INTERACTION_STATE_RECEIVED, ''),
      change(R.STATE_CHANGE_REASON_ROUTED, S.INTERACTION_STATE_QUEUED, 'billing', { matchedRuleId: 'invoices' }),
      change(R.STATE_CHANGE_REASON_ROUTED, S.INTERACTION_STATE_QUEUED, 'billing'),
      change(R.STATE_CHANGE_REASON_NO_ROUTE, S.INTERACTION_STATE_UNROUTED, ''),
      change(R.STATE_CHANGE_REASON_DISCARDED_BY_RULE, S.INTERACTION_STATE_DISCARDED, ''),
      change(R.STATE_CHANGE_REASON_OVERFLOWED, S.INTERACTION_STATE_QUEUED, 'overflow'),
      change(R.STATE_CHANGE_REASON_OFFERED, S.INTERACTION_STATE_OFFERED, 'billing'),
      change(R.STATE_CHANGE_REASON_OFFERED_BY_AFFINITY, S.INTERACTION_STATE_OFFERED, 'billing'),
      change(R.STATE_CHANGE_REASON_TRANSFERRED_TO_AGENT, S.INTERACTION_STATE_OFFERED, 'billing'),
      change(R.STATE_CHANGE_REASON_TRANSFERRED_TO_AGENT, S.INTERACTION_STATE_ASSIGNED, 'billing'),
      change(R.STATE_CHANGE_REASON_OFFER_TIMED_OUT, S.INTERACTION_STATE_QUEUED, 'billing'),
      change(R.STATE_CHANGE_REASON_OFFER_DECLINED, S.INTERACTION_STATE_QUEUED, 'billing'),
      change(R.STATE_CHANGE_REASON_OFFER_ACCEPTED, S.INTERACTION_STATE_ASSIGNED, 'billing'),
      change(R.STATE_CHANGE_REASON_ASSIGNED_BY_SUPERVISOR, S.INTERACTION_STATE_ASSIGNED, 'billing'),
      change(R.STATE_CHANGE_REASON_REPLIED, S.INTERACTION_STATE_REPLIED, 'billing'),
      change(R.STATE_CHANGE_REASON_COMPLETED, S.INTERACTION_STATE_COMPLETED, 'billing'),
    ];
    for (const entry of changes) routerMetrics.onCommitted(entry);
    const samples = await scrapeMetrics(metrics.port ?? 0);
    const value = (name: string, labels: Record<string, string> = {}) => metricValue(samples, name, { tenant: 't1', ...labels });
    expect(value('mailroute_router_interactions_routed_total', { queue: 'billing', by: 'rule' })).toBe(1);
    expect(value('mailroute_router_interactions_routed_total', { queue: 'billing', by: 'default' })).toBe(1);
    expect(value('mailroute_router_interactions_unrouted_total')).toBe(1);
    expect(value('mailroute_router_interactions_discarded_total')).toBe(1);
    expect(value('mailroute_router_interactions_overflowed_total', { queue: 'overflow' })).toBe(1);
    expect(value('mailroute_router_offers_total', { queue: 'billing', kind: 'routed' })).toBe(1);
    expect(value('mailroute_router_offers_total', { queue: 'billing', kind: 'affinity' })).toBe(1);
    expect(value('mailroute_router_offers_total', { queue: 'billing', kind: 'transfer' })).toBe(1);
    expect(value('mailroute_router_offers_total')).toBe(3);
    expect(value('mailroute_router_offers_timed_out_total', { queue: 'billing' })).toBe(1);
    expect(value('mailroute_router_offers_declined_total', { queue: 'billing' })).toBe(1);
    expect(value('mailroute_router_interactions_assigned_total', { queue: 'billing', by: 'offer' })).toBe(1);
    expect(value('mailroute_router_interactions_assigned_total', { queue: 'billing', by: 'supervisor' })).toBe(1);
    expect(value('mailroute_router_interactions_completed_total', { queue: 'billing' })).toBe(1);
    expect(samples.some((s) => Object.values(s.labels).includes('ix-secret-id'))).toBe(false);
  });
});
