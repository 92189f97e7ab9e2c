import { createHash } from 'node:crypto';
import type { InteractionRecord } from '@mailroute/persistence';
import { findSubjectReference, formatInteractionReference } from '@mailroute/routing-engine';
import type { RouterStores } from '../store/router-stores';

const maxNumber = 999_999_999_999;
/** Numbers tried after the interaction's own one is taken (a collision in 10^12 is rare; several in a row, rarer still). */
const attempts = 8;

const referenceKey = (tenantId: string, reference: string) => `${tenantId}/${reference}`;

/**
 * Interaction references such as `ABC-123456789012`: given out once per interaction (unique in the
 * tenant by an insert into the references table) and looked up when a subject quotes one.
 */
export function createInteractionReferences(deps: { stores: Pick<RouterStores, 'references'> }) {
  const { stores } = deps;
  return {
    /**
     * The interaction's reference with `prefix`: the same on every call (its number derives from
     * the interaction; a number taken by another interaction moves to the next one).
     */
    async assign(record: InteractionRecord, prefix: string): Promise<string> {
      const hash = createHash('sha256').update(`${record.tenantId}/${record.interactionId}`).digest();
      const first = (hash.readUIntBE(0, 6) % maxNumber) + 1;
      for (let attempt = 0; attempt < attempts; attempt++) {
        const reference = formatInteractionReference(prefix, ((first - 1 + attempt) % maxNumber) + 1);
        const key = referenceKey(record.tenantId, reference);
        const document = {
          interactionId: record.interactionId,
          mailboxId: record.mailboxId,
          customerAddress: record.customerAddress,
        };
        if (await stores.references.insert(key, document)) return reference;
        if ((await stores.references.get(key))?.interactionId === record.interactionId) return reference;
      }
      throw new Error(`no free interaction reference for ${record.interactionId} after ${attempts} attempts`);
    },

    /** The interaction that was given `reference` (e.g. `ABC-1234`) in the tenant, or undefined. */
    async interactionOf(tenantId: string, reference: string): Promise<string | undefined> {
      return (await stores.references.get(referenceKey(tenantId, reference)))?.interactionId;
    },

    /**
     * The open interaction a new mail's subject refers to, by the rule: the reference exists in
     * the mail's own tenant (keys are per tenant, so another tenant's reference is unknown here),
     * and the mail arrived at the mailbox the reference was given from, from the address it was
     * given to (case-insensitive). Otherwise undefined: the mail is treated as new.
     */
    async referredInteractionId(record: InteractionRecord): Promise<string | undefined> {
      const reference = findSubjectReference(record.subject);
      if (!reference || !record.customerAddress) return undefined;
      const found = await stores.references.get(referenceKey(record.tenantId, reference));
      if (!found || found.interactionId === record.interactionId) return undefined;
      if (found.mailboxId !== record.mailboxId || found.customerAddress !== record.customerAddress.toLowerCase())
        return undefined;
      return found.interactionId;
    },
  };
}

export type InteractionReferences = ReturnType<typeof createInteractionReferences>;
