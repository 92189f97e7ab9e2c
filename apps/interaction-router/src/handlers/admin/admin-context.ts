import { ActorKind, type InteractionRouterServiceImplementation } from '@mailroute/contracts';
import { ConflictError, NotFoundError, ValidationError, type TenantCallContext } from '@mailroute/platform';
import type { InteractionRecord } from '@mailroute/persistence';
import { createAgentIdentities } from '../../routing/agent-identities';
import type { DesktopHub } from '../../desktop/desktop-hub';
import type { HtmlSanitizer } from '../../desktop/html-sanitizer';
import { createPresence } from '../../desktop/presence';
import type { RouterCore } from '../../routing/router-core';
import { createTemplateFiles } from '../../routing/template-files';
import type { RouterStores } from '../../store/router-stores';
import { createConfigResources } from './config-resources';

/** InteractionRouterService's handlers, as the per-resource factories of this folder return their share. */
export type AdminHandlers = InteractionRouterServiceImplementation<TenantCallContext>;

/** What the workload-manager API runs on. */
export interface AdminDeps {
  core: RouterCore;
  stores: RouterStores;
  sanitizer: HtmlSanitizer;
  hub?: DesktopHub;
}

/**
 * The parts every resource's handlers share: the core and stores, agent identities and presence,
 * the configuration resources' create/get/update/list/remove, and the interaction lookups.
 */
export function createAdminContext(deps: AdminDeps) {
  const { core, stores } = deps;
  const identities = createAgentIdentities({ config: core.config, clock: core.clock });
  const presence = createPresence({ core, stores, ...(deps.hub ? { hub: deps.hub } : {}) });
  const templateFiles = createTemplateFiles({ config: core.config, blobs: stores.blobs, clock: core.clock });

  async function interaction(context: TenantCallContext, interactionId: string): Promise<InteractionRecord> {
    if (!interactionId) throw new ValidationError('interaction_id', 'is required');
    const record = await stores.interactions.get(context.tenantId, interactionId);
    if (!record) throw new NotFoundError('interaction', interactionId);
    return record;
  }

  function checkVersion(record: InteractionRecord, expected: number): void {
    if (expected < 0) throw new ValidationError('expected_version', 'must not be negative');
    if (expected > 0 && expected !== record.version)
      throw new ConflictError(`interaction ${record.interactionId} is at version ${record.version}, not ${expected}`);
  }

  return {
    core,
    stores,
    sanitizer: deps.sanitizer,
    config: core.config,
    identities,
    presence,
    templateFiles,
    resources: createConfigResources({ core, stores, identities, presence, files: templateFiles }),
    interaction,
    checkVersion,
    /** The actor of a change made through this API. */
    supervisor: (context: TenantCallContext) => ({ kind: 'supervisor' as const, id: context.caller.keyId }),
    /** The proto actor of a presence change made through this API. */
    supervisorActor: (context: TenantCallContext) => ({
      kind: ActorKind.ACTOR_KIND_SUPERVISOR,
      id: context.caller.keyId,
      displayName: '',
    }),
  };
}

export type AdminContext = ReturnType<typeof createAdminContext>;
