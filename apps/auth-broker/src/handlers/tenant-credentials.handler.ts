import { CredentialState, type AuthBrokerServiceImplementation } from '@mailroute/contracts';
import { ConflictError, NotFoundError, ValidationError, type TenantCallContext } from '@mailroute/platform';
import type { AuthBrokerCore } from '../auth-broker';
import { credentialStateOf } from '../credentials/credential-health';
import { etagOf, toTenantCredentials, versionOfEtag } from '../credentials/credentials.mapper';
import {
  applySpec,
  changesIdentity,
  newRevision,
  readCredentialsId,
  readUpdateMask,
  specPaths,
  type SpecPath,
} from '../credentials/credentials-spec';
import { tenantKey } from '../store/auth-broker.stores';
import { encodePageToken, readPage } from './request-fields';

type Handlers = Pick<
  AuthBrokerServiceImplementation<TenantCallContext>,
  | 'createTenantCredentials'
  | 'getTenantCredentials'
  | 'listTenantCredentials'
  | 'updateTenantCredentials'
  | 'deleteTenantCredentials'
>;

/**
 * Tenant credentials CRUD for workload-manager callers. The tenant is always `context.tenantId`
 * (the verified caller's), so another tenant's credentials are simply not found. Secrets are
 * sealed on the way in and only their status comes out.
 */
export function createTenantCredentialsHandlers(core: AuthBrokerCore): Handlers {
  const view = async (tenantId: string, credentialsId: string) => {
    const record = await core.loadCredentials(tenantId, credentialsId);
    if (!record) throw new NotFoundError('tenant credentials', credentialsId);
    return toTenantCredentials(record, await core.health.read(record), core.clock());
  };

  return {
    async createTenantCredentials(request, context) {
      const credentialsId = readCredentialsId(request.credentialsId);
      if (!request.spec) throw new ValidationError('spec', 'is required');
      const credentialPath: SpecPath | undefined =
        request.spec.credential?.$case === 'clientSecret'
          ? 'client_secret'
          : request.spec.credential?.$case === 'certificate'
            ? 'certificate'
            : undefined;
      if (!credentialPath) throw new ValidationError('spec.client_secret', 'is required: give a client secret or a certificate');
      const paths = new Set<SpecPath>([
        ...specPaths.filter((path) => path !== 'client_secret' && path !== 'certificate'),
        credentialPath,
      ]);
      const now = core.clock();
      const fields = applySpec(undefined, request.spec, paths, {
        tenantId: context.tenantId,
        credentialsId,
        secretBox: core.secretBox,
        now,
        clouds: core.clouds,
      });
      const record = await core.stores.credentials.create(
        { tenantId: context.tenantId, credentialsId, revision: newRevision(), ...fields },
        now,
      );
      await core.credentialsChanged(context.tenantId, credentialsId, true);
      return { credentials: toTenantCredentials(record, undefined, now) };
    },

    async getTenantCredentials(request, context) {
      return { credentials: await view(context.tenantId, readCredentialsId(request.credentialsId)) };
    },

    async listTenantCredentials(request, context) {
      const { pageSize, after } = readPage(request.page, `${context.tenantId}/`);
      const page = await core.stores.credentials.list(context.tenantId, {
        pageSize,
        ...(after ? { pageToken: encodePageToken(after) } : {}),
      });
      const now = core.clock();
      const items = await Promise.all(page.items.map(async (record) => ({ record, health: await core.health.read(record) })));
      const wanted = request.state;
      return {
        credentials: items
          .filter(
            ({ record, health }) =>
              wanted === CredentialState.CREDENTIAL_STATE_UNSPECIFIED || credentialStateOf(record, health, now) === wanted,
          )
          .map(({ record, health }) => toTenantCredentials(record, health, now)),
        nextPageToken: page.nextPageToken ?? '',
      };
    },

    async updateTenantCredentials(request, context) {
      const credentialsId = readCredentialsId(request.credentialsId);
      if (!request.spec) throw new ValidationError('spec', 'is required');
      const paths = readUpdateMask(request.updateMask, request.spec);
      const current = await core.loadCredentials(context.tenantId, credentialsId);
      if (!current) throw new NotFoundError('tenant credentials', credentialsId);
      if (request.etag && request.etag !== etagOf(current)) {
        throw new ConflictError(
          `tenant credentials "${credentialsId}" changed since it was read (etag ${request.etag}); read them again`,
        );
      }
      const now = core.clock();
      const fields = applySpec(current, request.spec, paths, {
        tenantId: context.tenantId,
        credentialsId,
        secretBox: core.secretBox,
        now,
        clouds: core.clouds,
      });
      const identityChanged = changesIdentity(current, fields);
      const updated = await core.stores.credentials.replace(
        { ...current, ...fields, revision: identityChanged ? newRevision() : current.revision },
        now,
      );
      await core.credentialsChanged(context.tenantId, credentialsId, identityChanged);
      return { credentials: toTenantCredentials(updated, await core.health.read(updated), now) };
    },

    async deleteTenantCredentials(request, context) {
      if (request.credentialsId === '')
        throw new ValidationError('credentials_id', 'is required (deleting "default" must be explicit)');
      const credentialsId = readCredentialsId(request.credentialsId);
      let expectedVersion: number | undefined;
      if (request.etag) {
        expectedVersion = versionOfEtag(request.etag);
        const current = await core.stores.credentials.get(context.tenantId, credentialsId);
        if (current && (expectedVersion === undefined || request.etag !== etagOf(current))) {
          throw new ConflictError(
            `tenant credentials "${credentialsId}" changed since it was read (etag ${request.etag}); read them again`,
          );
        }
      }
      if (!(await core.stores.credentials.delete(context.tenantId, credentialsId, expectedVersion))) {
        throw new NotFoundError('tenant credentials', credentialsId);
      }
      await core.stores.health.delete(tenantKey(context.tenantId, credentialsId));
      await core.credentialsChanged(context.tenantId, credentialsId, true);
      // Delegated grants made with these credentials go too (their refresh tokens with them).
      let after: string | undefined;
      for (;;) {
        const grants = await core.stores.grants.list({ prefix: `${context.tenantId}/`, after, limit: 200 });
        for (const { document } of grants) {
          if (document.credentialsId === credentialsId) await core.dropGrant(context.tenantId, document.mailboxAddress);
        }
        if (grants.length < 200) break;
        after = grants.at(-1)?.key;
      }
      return {};
    },
  };
}
