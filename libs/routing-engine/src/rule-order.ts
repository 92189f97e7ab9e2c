/** What rule ordering needs of a stored rule: its id and its stored (relative) position. */
export interface RulePlace {
  ruleId: string;
  position: number;
}

/** Evaluation order: stored position, then rule id (so ties from concurrent writers order the same everywhere). */
export function compareRulePlaces(a: RulePlace, b: RulePlace): number {
  return a.position - b.position || (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0);
}

/**
 * Rules in evaluation order with their 0-based positions (RoutingRule.position). Stored positions
 * are only relative: older versions stored 10, 20, …, and deletions leave gaps, so what a caller
 * sees is always the index in this order.
 */
export function orderRules<T extends RulePlace>(rules: readonly T[]): (T & { index: number })[] {
  return [...rules].sort(compareRulePlaces).map((rule, index) => ({ ...rule, index }));
}

/** A stored position to write: `ruleId` gets `position`. */
export interface PositionWrite {
  ruleId: string;
  position: number;
}

/**
 * The stored positions that put `order` (rule ids in the wanted evaluation order) in place:
 * position = index, written only for rules whose stored position differs. The writes come in an
 * order that never makes two rules swap places in between (rules that move to a lower position
 * front to back first, then the others back to front), so a reader seeing half of them still sees
 * the old or the new relative order of every pair it compares, with at worst a tie.
 */
export function planRulePositions(current: readonly RulePlace[], order: readonly string[]): PositionWrite[] {
  const stored = new Map(current.map((rule) => [rule.ruleId, rule.position]));
  const down: PositionWrite[] = [];
  const up: PositionWrite[] = [];
  order.forEach((ruleId, index) => {
    const position = stored.get(ruleId);
    if (position === index) return;
    if (position !== undefined && position > index) down.push({ ruleId, position: index });
    else up.push({ ruleId, position: index });
  });
  return [...down, ...up.reverse()];
}

/**
 * Where a new rule goes (CreateRoutingRule.position): the rule ids in the new evaluation order and
 * the stored positions to write. Unset or beyond the end appends after the highest stored position
 * without moving anyone; otherwise the new rule takes index `at` and later rules move down.
 */
export function placeNewRule(
  current: readonly RulePlace[],
  ruleId: string,
  at: number | undefined,
): { order: string[]; writes: PositionWrite[]; position: number } {
  const ordered = orderRules(current).map((rule) => rule.ruleId);
  if (at === undefined || at >= ordered.length) {
    const position = current.reduce((max, rule) => Math.max(max, rule.position + 1), 0);
    return { order: [...ordered, ruleId], writes: [], position };
  }
  const order = [...ordered.slice(0, at), ruleId, ...ordered.slice(at)];
  const writes = planRulePositions(current, order);
  return { order, writes: writes.filter((w) => w.ruleId !== ruleId), position: at };
}
