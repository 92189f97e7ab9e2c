import fc from 'fast-check';
import { orderRules, placeNewRule, planRulePositions, type RulePlace } from './rule-order';

const ids = (rules: readonly RulePlace[]) => orderRules(rules).map((r) => r.ruleId);

describe('orderRules', () => {
  it('numbers rules 0, 1, 2 … in stored-position order, whatever the stored values', () => {
    const legacy = [
      { ruleId: 'c', position: 30 },
      { ruleId: 'a', position: 10 },
      { ruleId: 'b', position: 20 },
    ];
    expect(orderRules(legacy).map((r) => [r.ruleId, r.index])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
  });

  it('breaks ties of stored positions by rule id, in code-unit order', () => {
    expect(
      ids([
        { ruleId: 'ab', position: 1 },
        { ruleId: 'a-b', position: 1 },
        { ruleId: 'z', position: 0 },
      ]),
    ).toEqual(['z', 'a-b', 'ab']);
  });
});

describe('placeNewRule', () => {
  const current = [
    { ruleId: 'a', position: 10 },
    { ruleId: 'b', position: 20 },
    { ruleId: 'c', position: 30 },
  ];

  it('appends after the highest stored position without moving anyone when no position is given', () => {
    expect(placeNewRule(current, 'x', undefined)).toEqual({ order: ['a', 'b', 'c', 'x'], writes: [], position: 31 });
  });

  it('appends when the position is beyond the end', () => {
    expect(placeNewRule(current, 'x', 3)).toMatchObject({ order: ['a', 'b', 'c', 'x'], writes: [] });
    expect(placeNewRule(current, 'x', 99).order).toEqual(['a', 'b', 'c', 'x']);
  });

  it('inserts before the rule at a 0-based position and moves the later ones down', () => {
    const placed = placeNewRule(current, 'x', 1);
    expect(placed.order).toEqual(['a', 'x', 'b', 'c']);
    expect(placed.position).toBe(1);
    const after = applyWrites(current, placed.writes).concat({ ruleId: 'x', position: placed.position });
    expect(orderRules(after).map((r) => [r.ruleId, r.position])).toEqual([
      ['a', 0],
      ['x', 1],
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('inserts first at position 0, also into an empty rule set', () => {
    expect(placeNewRule(current, 'x', 0).order).toEqual(['x', 'a', 'b', 'c']);
    expect(placeNewRule([], 'x', 0)).toEqual({ order: ['x'], writes: [], position: 0 });
  });
});

function applyWrites(rules: readonly RulePlace[], writes: readonly { ruleId: string; position: number }[]): RulePlace[] {
  const out = new Map(rules.map((r) => [r.ruleId, r.position]));
  for (const w of writes) out.set(w.ruleId, w.position);
  return [...out].map(([ruleId, position]) => ({ ruleId, position }));
}

describe('planRulePositions', () => {
  it('writes only the rules whose stored position is not their new index', () => {
    const current = [
      { ruleId: 'a', position: 0 },
      { ruleId: 'b', position: 1 },
      { ruleId: 'c', position: 2 },
    ];
    expect(planRulePositions(current, ['a', 'c', 'b'])).toEqual([
      { ruleId: 'c', position: 1 },
      { ruleId: 'b', position: 2 },
    ]);
    expect(planRulePositions(current, ['a', 'b', 'c'])).toEqual([]);
  });

  const storedRules = fc
    .uniqueArray(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 12 })
    .map((positions) => positions.map((position, i) => ({ ruleId: `r${String(i).padStart(2, '0')}`, position })));

  it('ends with positions 0 … n-1 in the wanted order (property)', () => {
    fc.assert(
      fc.property(
        storedRules.chain((rules) =>
          fc.tuple(
            fc.constant(rules),
            fc.shuffledSubarray(
              rules.map((r) => r.ruleId),
              { minLength: rules.length, maxLength: rules.length },
            ),
          ),
        ),
        ([rules, order]) => {
          const after = applyWrites(rules, planRulePositions(rules, order));
          expect(orderRules(after).map((r) => r.ruleId)).toEqual(order);
          expect(orderRules(after).every((r) => r.position === r.index)).toBe(true);
        },
      ),
    );
  });

  it('never inverts two rules that keep their relative order while the writes are applied one by one (property)', () => {
    fc.assert(
      fc.property(storedRules, fc.nat(), (rules, seed) => {
        // Renumbering with one inserted gap, as CreateRoutingRule does: the relative order of the existing rules stays.
        const order = orderRules(rules).map((r) => r.ruleId);
        const writes = planRulePositions(rules, [
          ...order.slice(0, seed % (order.length + 1)),
          'new',
          ...order.slice(seed % (order.length + 1)),
        ]).filter((w) => w.ruleId !== 'new');
        let state = rules;
        for (const write of writes) {
          state = applyWrites(state, [write]);
          const byId = new Map(state.map((r) => [r.ruleId, r.position]));
          for (let i = 0; i + 1 < order.length; i += 1) {
            expect(byId.get(order[i] ?? '')).toBeLessThan(byId.get(order[i + 1] ?? '') ?? Number.NaN);
          }
        }
      }),
    );
  });
});
