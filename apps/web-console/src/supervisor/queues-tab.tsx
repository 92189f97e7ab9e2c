// Live queues: waiting, offered, assigned, longest wait, service level against target, agents available,
// capacity used, and the last hour's waiting and service level, sampled by the browser every 5 s.
import type { InteractionRouterServiceClient, Queue, QueueStatistics } from '@mailroute/contracts';
import { useEffect, useState } from 'preact/hooks';
import { formatDuration } from '../ui/format';
import { usePoll } from '../ui/use-poll';
import { addSamples, chartPoints, HISTORY_MS, type QueueSample } from './queue-history';
import { FailureLine, listAll } from './shared';

const POLL_MS = 5000;
const CHART = { width: 300, height: 80 };

function Chart(props: { samples: QueueSample[]; targetPercent: number; now: number }) {
  const maxWaiting = Math.max(5, ...props.samples.map((s) => s.waiting));
  const targetY = CHART.height - (props.targetPercent / 100) * CHART.height;
  return (
    <figure>
      <svg
        class="chart"
        viewBox={`0 0 ${CHART.width} ${CHART.height}`}
        preserveAspectRatio="none"
        role="img"
        aria-label="Waiting and service level over the last hour"
      >
        <line class="axis" x1="0" y1={CHART.height} x2={CHART.width} y2={CHART.height} />
        {props.targetPercent ? <line class="target" x1="0" y1={targetY} x2={CHART.width} y2={targetY} /> : null}
        <polyline
          class="waiting"
          points={chartPoints(props.samples, (s) => s.waiting, { ...CHART, max: maxWaiting, now: props.now })}
        />
        <polyline class="sl" points={chartPoints(props.samples, (s) => s.serviceLevel, { ...CHART, max: 100, now: props.now })} />
      </svg>
      <figcaption class="legend">
        <span class="w">— waiting (max {maxWaiting})</span>
        <span class="s">- - service level %</span>
        <span>last hour, sampled since this page opened</span>
      </figcaption>
    </figure>
  );
}

function QueueCard(props: { stats: QueueStatistics; queue: Queue | undefined; samples: QueueSample[]; now: number }) {
  const { stats, queue } = props;
  const sl = stats.serviceLevel;
  const target = sl?.targetPercent || queue?.serviceLevel?.targetPercent || 0;
  const achieved = sl && sl.interactionsCounted > 0 ? sl.achievedPercent : undefined;
  const longest = stats.longestWait ? stats.longestWait.seconds * 1000 : 0;
  return (
    <article class="card" data-testid="queue-card" data-queue-id={stats.queueId}>
      <h3>
        <span>{queue?.displayName ?? stats.queueId}</span>
        <span class="muted small">{queue?.strategy ? '' : ''}</span>
      </h3>
      <dl class="stats">
        <div>
          <dt>Waiting</dt>
          <dd data-testid="queue-waiting">{stats.waiting}</dd>
        </div>
        <div>
          <dt>Offered</dt>
          <dd>{stats.offered}</dd>
        </div>
        <div>
          <dt>Assigned</dt>
          <dd>{stats.assigned}</dd>
        </div>
        <div>
          <dt>Longest wait</dt>
          <dd>{stats.waiting ? formatDuration(longest) : '—'}</dd>
        </div>
        <div>
          <dt>Service level</dt>
          <dd class={achieved === undefined ? '' : achieved >= target ? 'sl-good' : 'sl-bad'}>
            {achieved === undefined ? '—' : `${Math.round(achieved)}%`}
            <span class="muted small"> / {target}%</span>
          </dd>
        </div>
        <div>
          <dt>Agents available</dt>
          <dd>
            {stats.agentsAvailable}
            <span class="muted small"> of {stats.agentsSignedIn}</span>
          </dd>
        </div>
        <div>
          <dt>Capacity used</dt>
          <dd>
            {stats.capacityUsed}
            <span class="muted small"> of {stats.capacityTotal}</span>
          </dd>
        </div>
        <div>
          <dt>Completed (window)</dt>
          <dd>{stats.completedInWindow}</dd>
        </div>
      </dl>
      <Chart samples={props.samples} targetPercent={target} now={props.now} />
    </article>
  );
}

export function QueuesTab(props: { router: InteractionRouterServiceClient }) {
  const [history, setHistory] = useState<Record<string, QueueSample[]>>({});
  const queues = usePoll(
    () =>
      listAll(
        (page) => props.router.listQueues({ page }),
        (r) => r.queues,
      ),
    60_000,
  );
  const stats = usePoll(
    () =>
      listAll(
        (page) => props.router.listQueueStatistics({ page }),
        (r) => r.statistics,
      ),
    POLL_MS,
  );
  useEffect(() => {
    if (!stats.data) return;
    const samples = Object.fromEntries(
      stats.data.map((s) => [
        s.queueId,
        { waiting: s.waiting, serviceLevel: s.serviceLevel?.interactionsCounted ? s.serviceLevel.achievedPercent : undefined },
      ]),
    );
    setHistory((current) => addSamples(current, samples, Date.now()));
  }, [stats.data]);
  const byId = Object.fromEntries((queues.data ?? []).map((q) => [q.queueId, q]));
  const now = Date.now();
  return (
    <section aria-label="Queues">
      <FailureLine failure={stats.failure ?? queues.failure} />
      {!stats.data && !stats.failure ? <p class="muted">Loading queues…</p> : null}
      {stats.data?.length === 0 ? <p class="empty">No queues yet. Create one under Configuration.</p> : null}
      <div class="cards">
        {(stats.data ?? []).map((s) => (
          <QueueCard key={s.queueId} stats={s} queue={byId[s.queueId]} samples={history[s.queueId] ?? []} now={now} />
        ))}
      </div>
      <p class="muted small">
        Updated every {POLL_MS / 1000} s. The chart keeps {HISTORY_MS / 60_000} minutes while this page stays open.
      </p>
    </section>
  );
}
