import type { AgentSkill, SkillRequirement } from '@mailroute/contracts';

/** An agent's skills as skill id → level (1-10). */
export type SkillLevels = Readonly<Record<string, number>>;

/** Skill requirements after normalization: min levels 1-10, one per skill, sorted by skill id. */
export type NormalizedRequirements = readonly SkillRequirement[];

/** Proto AgentSkill list → SkillLevels; level 0 means 1, a repeated skill keeps its highest level. */
export function toSkillLevels(skills: readonly AgentSkill[]): SkillLevels {
  const levels: Record<string, number> = Object.create(null);
  for (const { skill, level } of skills) levels[skill] = Math.max(levels[skill] ?? 0, level || 1);
  return levels;
}

/** min_level 0 means 1; a repeated skill keeps its highest minimum; sorted by skill id. */
export function normalizeRequirements(requirements: readonly SkillRequirement[]): NormalizedRequirements {
  if (requirements.length === 0) return [];
  const bySkill = new Map<string, number>();
  for (const { skill, minLevel } of requirements) bySkill.set(skill, Math.max(bySkill.get(skill) ?? 0, minLevel || 1));
  return [...bySkill].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([skill, minLevel]) => ({ skill, minLevel }));
}

/** Union of two requirement lists, keeping the stricter minimum of a skill both name. */
export function mergeRequirements(a: readonly SkillRequirement[], b: readonly SkillRequirement[]): NormalizedRequirements {
  return normalizeRequirements([...a, ...b]);
}

/** True when the agent has every required skill at or above its minimum level. */
export function meetsRequirements(levels: SkillLevels, requirements: readonly SkillRequirement[]): boolean {
  for (const { skill, minLevel } of requirements) {
    if ((levels[skill] ?? 0) < (minLevel || 1)) return false;
  }
  return true;
}

/** How far the agent's levels exceed the requirements, summed (BEST_SKILL_MATCH). */
export function skillSurplus(levels: SkillLevels, requirements: readonly SkillRequirement[]): number {
  let surplus = 0;
  for (const { skill, minLevel } of requirements) surplus += (levels[skill] ?? 0) - (minLevel || 1);
  return surplus;
}

/** A RelaxSkills escalation action. */
export interface SkillRelaxation {
  dropAll: boolean;
  dropSkills: readonly string[];
  lowerMinLevelBy: number;
}

/** Applies a bullseye ring: drops skills and lowers the remaining minimums (never below 1). */
export function relaxRequirements(
  requirements: readonly SkillRequirement[],
  relaxation: SkillRelaxation,
): NormalizedRequirements {
  if (relaxation.dropAll) return [];
  const dropped = new Set(relaxation.dropSkills);
  return normalizeRequirements(
    requirements
      .filter(({ skill }) => !dropped.has(skill))
      .map(({ skill, minLevel }) => ({ skill, minLevel: Math.max(1, (minLevel || 1) - relaxation.lowerMinLevelBy) })),
  );
}

/** A stable key of a requirement list: equal keys, equal agent pools. */
export function requirementsKey(requirements: readonly SkillRequirement[]): string {
  if (requirements.length === 0) return '';
  if (requirements.length === 1) {
    const only = requirements[0] as SkillRequirement;
    return `${only.skill}:${only.minLevel || 1}`;
  }
  if (requirements.length === 2) {
    const [a, b] = requirements as [SkillRequirement, SkillRequirement];
    if (a.skill !== b.skill) {
      const [first, second] = a.skill < b.skill ? [a, b] : [b, a];
      return `${first.skill}:${first.minLevel || 1},${second.skill}:${second.minLevel || 1}`;
    }
  }
  return normalizeRequirements(requirements)
    .map(({ skill, minLevel }) => `${skill}:${minLevel}`)
    .join(',');
}
