import { QueueStrategy, type Queue } from '@mailroute/contracts';
import { defaultQueuePolicy, effectivePriority, toQueuePolicy, validateQueue } from './queue-policy';

const seconds = (value: number) => ({ seconds: value, nanos: 0 });
const queue = (overrides: Partial<Queue> = {}): Queue => ({
  queueId: 'billing',
  displayName: 'Billing',
  description: '',
  strategy: QueueStrategy.QUEUE_STRATEGY_UNSPECIFIED,
  requiredSkills: [],
  escalationSteps: [],
  etag: '',
  signatureTemplateId: '',
  ...overrides,
});

describe('toQueuePolicy', () => {
  it('resolves the proto defaults of an empty queue', () => {
    expect(toQueuePolicy(queue())).toEqual({
      queueId: 'billing',
      requiredSkills: [],
      escalationSteps: [],
      ...defaultQueuePolicy,
    });
  });

  it('converts durations, strategies and escalation steps', () => {
    const policy = toQueuePolicy(
      queue({
        strategy: QueueStrategy.QUEUE_STRATEGY_ROUND_ROBIN,
        requiredSkills: [{ skill: 'german', minLevel: 0 }],
        offerTimeout: seconds(30),
        aging: { interval: seconds(60), increment: 0, ceiling: 0 },
        escalationSteps: [
          {
            afterWait: seconds(300),
            action: { $case: 'relaxSkills', value: { dropAll: false, dropSkills: ['vip'], lowerMinLevelBy: 1 } },
          },
          { afterWait: seconds(900), action: { $case: 'overflow', value: { queueId: 'general', resetWaitTime: true } } },
        ],
        affinity: { disabled: true, window: seconds(3600), ownerWait: { seconds: 1, nanos: 500_000_000 } },
      }),
    );
    expect(policy).toMatchObject({
      strategy: 'round-robin',
      requiredSkills: [{ skill: 'german', minLevel: 1 }],
      offerTimeoutMs: 30_000,
      aging: { intervalMs: 60_000, increment: 0, ceiling: 1000 },
      escalationSteps: [
        { afterWaitMs: 300_000, action: { kind: 'relax-skills', dropSkills: ['vip'], lowerMinLevelBy: 1 } },
        { afterWaitMs: 900_000, action: { kind: 'overflow', queueId: 'general', resetWaitTime: true } },
      ],
      affinity: { enabled: false, windowMs: 3_600_000, ownerWaitMs: 1500 },
    });
  });
});

describe('validateQueue', () => {
  it('accepts a minimal queue', () => {
    expect(validateQueue(queue())).toEqual([]);
  });

  it('names every invalid field with its proto path', () => {
    const violations = validateQueue(
      queue({
        displayName: '',
        offerTimeout: seconds(5),
        aging: { interval: seconds(60), increment: 2000, ceiling: 0 },
        requiredSkills: [{ skill: 'German', minLevel: 11 }],
        escalationSteps: [
          { afterWait: seconds(600), action: { $case: 'overflow', value: { queueId: 'billing', resetWaitTime: false } } },
          {
            afterWait: seconds(300),
            action: { $case: 'relaxSkills', value: { dropAll: false, dropSkills: [], lowerMinLevelBy: 0 } },
          },
          { afterWait: seconds(900) },
        ],
      }),
      { fieldPrefix: 'queue', queueId: 'billing' },
    );
    expect(violations.map((violation) => violation.field)).toEqual([
      'queue.display_name',
      'queue.required_skills[0].skill',
      'queue.required_skills[0].min_level',
      'queue.offer_timeout',
      'queue.aging.increment',
      'queue.escalation_steps[0].overflow.queue_id',
      'queue.escalation_steps[1].after_wait',
      'queue.escalation_steps[1].relax_skills',
      'queue.escalation_steps[2].action',
    ]);
  });
});

describe('effectivePriority', () => {
  const aging = { intervalMs: 10 * 60_000, increment: 5, ceiling: 1000 };

  it('adds the increment once per full interval waited', () => {
    expect(effectivePriority(aging, 100, 0, 10 * 60_000 - 1)).toBe(100);
    expect(effectivePriority(aging, 100, 0, 30 * 60_000)).toBe(115);
  });

  it('stops at the ceiling and does not age with increment 0', () => {
    expect(effectivePriority(aging, 990, 0, 1e9)).toBe(1000);
    expect(effectivePriority({ ...aging, increment: 0 }, 100, 0, 1e9)).toBe(100);
  });
});
