import { z } from 'zod';
import { newGuid } from '../shared/ids';

/** How long an injected delay lasts. */
export const latencySchema = z.discriminatedUnion('distribution', [
  z.object({ distribution: z.literal('fixed'), ms: z.number().int().min(0).max(120_000) }).strict(),
  z.object({ distribution: z.literal('uniform'), minMs: z.number().int().min(0), maxMs: z.number().int().max(120_000) }).strict(),
  z.object({ distribution: z.literal('normal'), meanMs: z.number().min(0).max(120_000), stdDevMs: z.number().min(0) }).strict(),
  z.object({ distribution: z.literal('exponential'), meanMs: z.number().min(0).max(120_000) }).strict(),
]);

/**
 * One fault switch. Every field that is set must match the request; unset fields match anything.
 * `endpoint` is an endpoint name (`messages.list`, `entra.token`, …) or a prefix ending in `*` (`graph.*`).
 */
export const faultRuleSchema = z
  .object({
    tenantId: z.string().optional(),
    /** Mailbox id or address. */
    mailbox: z.string().optional(),
    appId: z.string().optional(),
    endpoint: z.string().optional(),
    /**
     * Answer with this status instead of the real response: transient (429, 5xx) or, for the
     * permanent answers a client must not retry, 400 (BadRequest), 403 (ErrorAccessDenied) or 404
     * (ErrorItemNotFound), with Graph's error code for each.
     */
    status: z
      .union([
        z.literal(400),
        z.literal(403),
        z.literal(404),
        z.literal(429),
        z.literal(500),
        z.literal(502),
        z.literal(503),
        z.literal(504),
      ])
      .optional(),
    /** Retry-After on the injected answer (seconds). */
    retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
    latency: latencySchema.optional(),
    /** Destroy the socket without answering (the request is not carried out). */
    drop: z.boolean().optional(),
    /**
     * Carry the request out, then destroy the socket instead of sending the answer: the client
     * never learns that, e.g., a send was accepted (202). Ignored when `drop` or `status` also fire.
     */
    dropResponse: z.boolean().optional(),
    /** Chance (0–1) that the rule fires on a matching request; 1 by default. */
    probability: z.number().min(0).max(1).optional(),
    /** Fire this many times, then remove the rule. */
    times: z.number().int().min(1).optional(),
  })
  .strict();

export type FaultRuleInput = z.infer<typeof faultRuleSchema>;
export type FaultRule = FaultRuleInput & { id: string };
export type Latency = z.infer<typeof latencySchema>;

/** What a request is, for matching. */
export interface FaultTarget {
  endpoint: string;
  tenantId?: string;
  appId?: string;
  mailboxId?: string;
  mailboxAddress?: string;
}

export interface FaultDecision {
  latencyMs: number;
  status?: number;
  retryAfterSeconds?: number;
  drop: boolean;
  /** Handle the request, then destroy the socket without answering. */
  dropResponse: boolean;
}

/** A deterministic PRNG (mulberry32), so faults with a probability replay the same way for a seed. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws one delay from `latency` (never negative). */
export function sampleLatency(latency: Latency, random: () => number): number {
  switch (latency.distribution) {
    case 'fixed':
      return latency.ms;
    case 'uniform':
      return latency.minMs + random() * Math.max(0, latency.maxMs - latency.minMs);
    case 'normal': {
      const u = Math.max(random(), Number.EPSILON);
      const v = random();
      return Math.max(0, latency.meanMs + latency.stdDevMs * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
    }
    case 'exponential':
      return -latency.meanMs * Math.log(Math.max(1 - random(), Number.EPSILON));
  }
}

function matches(rule: FaultRule, target: FaultTarget): boolean {
  if (rule.tenantId && rule.tenantId.toLowerCase() !== target.tenantId) return false;
  if (rule.appId && rule.appId.toLowerCase() !== target.appId) return false;
  if (rule.mailbox) {
    const wanted = rule.mailbox.toLowerCase();
    if (wanted !== target.mailboxId && wanted !== target.mailboxAddress?.toLowerCase()) return false;
  }
  if (rule.endpoint) {
    if (rule.endpoint.endsWith('*')) return target.endpoint.startsWith(rule.endpoint.slice(0, -1));
    return rule.endpoint === target.endpoint;
  }
  return true;
}

/** The fault switches: rules are tried in the order they were added; delays add up, the first status wins. */
export function createFaultInjector(random: () => number) {
  let rules: FaultRule[] = [];
  return {
    add(input: FaultRuleInput): FaultRule {
      const rule: FaultRule = { ...faultRuleSchema.parse(input), id: newGuid() };
      rules.push(rule);
      return rule;
    },
    list: (): readonly FaultRule[] => rules,
    remove(id: string): boolean {
      const before = rules.length;
      rules = rules.filter((rule) => rule.id !== id);
      return rules.length < before;
    },
    clear(): void {
      rules = [];
    },
    decide(target: FaultTarget): FaultDecision | undefined {
      if (rules.length === 0) return undefined;
      let decision: FaultDecision | undefined;
      for (const rule of [...rules]) {
        if (!matches(rule, target)) continue;
        if (rule.probability !== undefined && random() >= rule.probability) continue;
        decision ??= { latencyMs: 0, drop: false, dropResponse: false };
        if (rule.latency) decision.latencyMs += sampleLatency(rule.latency, random);
        if (rule.drop) decision.drop = true;
        if (rule.dropResponse) decision.dropResponse = true;
        if (rule.status !== undefined && decision.status === undefined) {
          decision.status = rule.status;
          if (rule.retryAfterSeconds !== undefined) decision.retryAfterSeconds = rule.retryAfterSeconds;
        }
        if (rule.times !== undefined) {
          rule.times -= 1;
          if (rule.times <= 0) rules = rules.filter((candidate) => candidate !== rule);
        }
      }
      return decision;
    },
  };
}

export type FaultInjector = ReturnType<typeof createFaultInjector>;
