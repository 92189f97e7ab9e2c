import { Agent, Queue, SignatureRule, SignatureSource } from '@mailroute/contracts';
import { flag, type Command, type CommandContext } from '../command';
import { UsageError } from '../errors';
import { table } from '../format';
import { enumLabel, parseEnum } from '../values';
import { settingTarget, writeMailboxSettings } from './reply-settings';

const sourceLabel = (source: SignatureSource) => enumLabel(SignatureSource, 'SIGNATURE_SOURCE', source).toLowerCase();

/** A rule's parts for people: `agent, then queue|mailbox`. */
export function formatSignatureRule(rule: SignatureRule | undefined): string {
  const parts = rule?.parts ?? [];
  if (parts.length === 0) return 'no signatures';
  return parts.map((part) => part.sources.map(sourceLabel).join('|')).join(', then ');
}

/** `signature rule set` arguments: one per part, sources separated by `|` or `,` (e.g. `agent` `queue|mailbox`). */
export function parseSignatureRule(parts: readonly string[]): SignatureRule {
  return SignatureRule.fromPartial({
    parts: parts.map((part) => ({
      sources: part
        .split(/[|,]/)
        .map((name) => parseEnum<SignatureSource>(SignatureSource, 'SIGNATURE_SOURCE', name.trim(), 'signature rule')),
    })),
  });
}

async function allPages<T>(load: (pageToken: string) => Promise<{ items: T[]; nextPageToken: string }>): Promise<T[]> {
  const out: T[] = [];
  let token = '';
  do {
    const page = await load(token);
    out.push(...page.items);
    token = page.nextPageToken;
  } while (token && out.length < 10_000);
  return out;
}

async function signatureRows(context: CommandContext): Promise<{ kind: string; id: string; templateId: string }[]> {
  const router = context.clients.router();
  const page = (pageToken: string) => ({ pageSize: 500, pageToken });
  const [agents, queues, mailboxes] = await Promise.all([
    allPages(async (token) => {
      const r = await router.listAgents({ page: page(token) });
      return { items: r.agents, nextPageToken: r.nextPageToken };
    }),
    allPages(async (token) => {
      const r = await router.listQueues({ page: page(token) });
      return { items: r.queues, nextPageToken: r.nextPageToken };
    }),
    allPages(async (token) => {
      const r = await router.listMailboxSettings({ page: page(token) });
      return { items: r.settings, nextPageToken: r.nextPageToken };
    }),
  ]);
  return [
    ...agents.map((a) => ({ kind: 'agent', id: a.agentId, templateId: a.signatureTemplateId })),
    ...queues.map((q) => ({ kind: 'queue', id: q.queueId, templateId: q.signatureTemplateId })),
    ...mailboxes.map((m) => ({ kind: 'mailbox', id: m.mailboxId, templateId: m.signatureTemplateId })),
  ].filter((row) => row.templateId);
}

export const signatureCommands: Command[] = [
  {
    path: ['signature', 'set'],
    summary: "set an agent's, a queue's or a mailbox's signature (a template of kind signature)",
    args: ['[template-id]'],
    options: {
      agent: { type: 'string', value: '<agent-id>', description: "the agent's own signature" },
      queue: { type: 'string', value: '<queue-id>', description: "the queue's signature" },
      mailbox: { type: 'string', value: '<mailbox-id>', description: "the sending mailbox's signature" },
      none: { type: 'boolean', description: 'remove the signature' },
    },
    details: "Which of them a reply gets is the tenant's signature rule: see `signature rule show`.",
    async run(context) {
      const target = settingTarget(context, ['agent', 'queue', 'mailbox']);
      const none = flag(context.values, 'none');
      const given = context.positionals[0];
      if (none === (given !== undefined)) throw new UsageError('give a <template-id> or --none');
      const signatureTemplateId = given ?? '';
      const router = context.clients.router();
      const common = { updateMask: ['signature_template_id'], etag: '' };
      if (target.kind === 'agent')
        await router.updateAgent({ agentId: target.id, agent: Agent.fromPartial({ signatureTemplateId }), ...common });
      else if (target.kind === 'queue')
        await router.updateQueue({ queueId: target.id, queue: Queue.fromPartial({ signatureTemplateId }), ...common });
      else await writeMailboxSettings(context, target.id, { signatureTemplateId }, ['signature_template_id']);
      context.print({ [target.kind]: target.id, signatureTemplateId }, () =>
        signatureTemplateId
          ? `${target.kind} ${target.id}: signature ${signatureTemplateId}`
          : `${target.kind} ${target.id}: no signature`,
      );
    },
  },
  {
    path: ['signature', 'list'],
    summary: 'list the signatures of agents, queues and mailboxes, and the rule that picks among them',
    async run(context) {
      const [rows, { rule }] = await Promise.all([signatureRows(context), context.clients.router().getSignatureRule({})]);
      context.print({ rule: rule && SignatureRule.toJSON(rule), signatures: rows }, () =>
        [
          `rule: ${formatSignatureRule(rule)}`,
          '',
          table(
            ['KIND', 'ID', 'TEMPLATE'],
            rows.map((row) => [row.kind, row.id, row.templateId]),
          ),
        ].join('\n'),
      );
    },
  },
  {
    path: ['signature', 'rule', 'show'],
    summary: "show the tenant's signature rule",
    async run(context) {
      const { rule } = await context.clients.router().getSignatureRule({});
      context.print(rule ? SignatureRule.toJSON(rule) : {}, () => `rule: ${formatSignatureRule(rule)}`);
    },
  },
  {
    path: ['signature', 'rule', 'set'],
    summary: "set the tenant's signature rule: parts in order, each the first of its sources that has a signature",
    args: ['[part…]'],
    options: { none: { type: 'boolean', description: 'replies get no signature' } },
    details:
      "Each part is agent, queue or mailbox, or several separated by | (the first that has a signature). Examples: `agent queue|mailbox` (the agent's, then the queue's or else the mailbox's); `mailbox` (only the mailbox's); the default is `agent|queue|mailbox`.",
    async run(context) {
      const none = flag(context.values, 'none');
      if (none === context.positionals.length > 0) throw new UsageError('give one or more parts, or --none');
      const { rule } = await context.clients
        .router()
        .setSignatureRule({ rule: parseSignatureRule(context.positionals), etag: '' });
      context.print(rule ? SignatureRule.toJSON(rule) : {}, () => `rule: ${formatSignatureRule(rule)}`);
    },
  },
];
