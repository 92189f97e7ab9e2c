import { TemplateKind, type MessageTemplate, type PageRequest } from '@mailroute/contracts';
import { ValidationError } from '@mailroute/platform';
import { encodePageToken, readPageRequest } from '@mailroute/persistence';
import { templateKindOf, templateMatches, templatePlaceholders, type TemplateValues } from '@mailroute/routing-engine';
import type { StoredConfig } from './config-repository';

/**
 * One page of stored templates in id order that pass `keep` and contain `query` in their name,
 * subject or text. Templates are few per tenant (each a configuration object), so the search runs
 * over the tenant's list in memory.
 */
export function searchTemplates(
  stored: readonly StoredConfig<MessageTemplate>[],
  request: { query: string; page?: PageRequest | undefined },
  keep: (template: MessageTemplate) => boolean,
): { items: StoredConfig<MessageTemplate>[]; nextPageToken: string } {
  if (request.query.length > 200) throw new ValidationError('query', 'must have at most 200 characters');
  const { pageSize, after } = readPageRequest(request.page ?? {});
  const matching = stored.filter(
    (item) => (after === undefined || item.id > after) && keep(item.value) && templateMatches(item.value, request.query),
  );
  const items = matching.slice(0, pageSize);
  const last = items[items.length - 1];
  return { items, nextPageToken: matching.length > pageSize && last ? encodePageToken(last.id) : '' };
}

/** A kind filter: UNSPECIFIED keeps every kind. */
export const ofKind =
  (kind: TemplateKind) =>
  (template: MessageTemplate): boolean =>
    kind === TemplateKind.TEMPLATE_KIND_UNSPECIFIED || templateKindOf(template) === kind;

const known = new Set<string>(templatePlaceholders);

/** PreviewTemplate's values: known placeholder names only, each at most 1000 characters (INVALID_ARGUMENT naming the key). */
export function readTemplateValues(values: Readonly<Record<string, string>>): TemplateValues {
  const out: TemplateValues = {};
  for (const [name, value] of Object.entries(values)) {
    if (!known.has(name))
      throw new ValidationError('values', `"${name.slice(0, 40)}" is not a placeholder: use ${templatePlaceholders.join(', ')}`);
    if (value.length > 1000) throw new ValidationError(`values[${name}]`, 'must have at most 1000 characters');
    out[name as keyof TemplateValues] = value;
  }
  return out;
}
