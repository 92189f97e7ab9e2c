import { z } from 'zod';
import { newGuid } from '../shared/ids';

/**
 * A fault on change-notification delivery, for tests of a subscriber: `drop` never posts the
 * notification, `delay` posts it `delayMs` late, `duplicate` posts it twice, `forgeClientState` posts it
 * with a clientState that is not the subscription's (what a forged request would carry).
 * Unset match fields match anything; the rule fires `times` times (every time when unset).
 */
export const notificationFaultSchema = z
  .object({
    kind: z.enum(['drop', 'delay', 'duplicate', 'forgeClientState']),
    subscriptionId: z.string().optional(),
    tenantId: z.string().optional(),
    /** Mailbox id (the subscription's resource owner). */
    mailboxId: z.string().optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    times: z.number().int().min(1).optional(),
  })
  .strict();

export type NotificationFaultInput = z.infer<typeof notificationFaultSchema>;
export type NotificationFault = NotificationFaultInput & { id: string };

/** The fault rules in force; `take` picks the rules matching one delivery and counts them down. */
export interface NotificationFaults {
  add(input: NotificationFaultInput): NotificationFault;
  list(): NotificationFault[];
  remove(id: string): boolean;
  clear(): void;
  take(target: { subscriptionId: string; tenantId: string; mailboxId: string }): NotificationFault[];
}

export function createNotificationFaults(): NotificationFaults {
  const rules = new Map<string, NotificationFault & { left: number }>();
  return {
    add(input) {
      const rule = { ...input, id: newGuid() };
      rules.set(rule.id, { ...rule, left: input.times ?? Number.POSITIVE_INFINITY });
      return rule;
    },
    list: () => [...rules.values()].map(({ left: _left, ...rule }) => rule),
    remove: (id) => rules.delete(id),
    clear: () => rules.clear(),
    take(target) {
      const fired: NotificationFault[] = [];
      for (const rule of rules.values()) {
        if (rule.subscriptionId !== undefined && rule.subscriptionId !== target.subscriptionId) continue;
        if (rule.tenantId !== undefined && rule.tenantId !== target.tenantId) continue;
        if (rule.mailboxId !== undefined && rule.mailboxId !== target.mailboxId) continue;
        rule.left -= 1;
        if (rule.left <= 0) rules.delete(rule.id);
        const { left: _left, ...view } = rule;
        fired.push(view);
      }
      return fired;
    },
  };
}
