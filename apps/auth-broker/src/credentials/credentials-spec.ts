import { randomBytes } from 'node:crypto';
import { AuthorityCloud, type TenantCredentialsSpec } from '@mailroute/contracts';
import type { AppCredential, AppCredentialsRecord } from '@mailroute/persistence';
import { ValidationError, readUpdateMask as readWritableMaskPaths, type SecretBox } from '@mailroute/platform';
import { readCertificate } from './certificate';
import { predefinedClouds, type CloudPolicy } from './clouds';
import { sealingContext } from '../entra/msal-clients';

/** Writable paths of TenantCredentialsSpec that an update mask may name. */
export const specPaths = [
  'display_name',
  'directory_id',
  'client_id',
  'cloud',
  'authority_host',
  'graph_endpoint',
  'client_secret',
  'certificate',
] as const;
export type SpecPath = (typeof specPaths)[number];

const resourceIdPattern = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const domainPattern = /^(?=.{4,255}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const controlCharacters = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/** A credentials id from a request: empty means "default"; otherwise a resource id (common.proto). */
export function readCredentialsId(value: string, field = 'credentials_id'): string {
  if (value === '') return 'default';
  if (!resourceIdPattern.test(value))
    throw new ValidationError(
      field,
      'must be 1-63 lower-case letters, digits and "-", starting with a letter and not ending with "-"',
    );
  return value;
}

/** The parts of a record a spec decides (everything but identity, revision and bookkeeping). */
export type SpecFields = Pick<
  AppCredentialsRecord,
  'displayName' | 'directoryId' | 'clientId' | 'cloud' | 'authorityHost' | 'graphEndpoint' | 'credential'
>;

interface Context {
  tenantId: string;
  credentialsId: string;
  secretBox: SecretBox;
  now: Date;
  /** Hosts a CUSTOM cloud may use. */
  clouds: CloudPolicy;
}

/**
 * Applies the spec fields named by `paths` to `base` (a new record starts from nothing), validates
 * the result as TenantCredentialsSpec documents, and seals any new secret or key. Errors name the
 * field as `spec.<field>` and never echo secret values.
 */
export function applySpec(
  base: SpecFields | undefined,
  spec: TenantCredentialsSpec,
  paths: ReadonlySet<SpecPath>,
  context: Context,
): SpecFields {
  const next: Partial<SpecFields> = { ...base };
  if (paths.has('display_name')) next.displayName = readDisplayName(spec.displayName);
  if (paths.has('directory_id')) next.directoryId = readDirectoryId(spec.directoryId);
  if (paths.has('client_id')) {
    if (!guidPattern.test(spec.clientId))
      throw new ValidationError('spec.client_id', 'must be the Application (client) ID, a GUID');
    next.clientId = spec.clientId.toLowerCase();
  }
  if (paths.has('cloud') || paths.has('authority_host') || paths.has('graph_endpoint')) {
    const cloud = paths.has('cloud') ? spec.cloud : base ? cloudEnum(base.cloud) : AuthorityCloud.AUTHORITY_CLOUD_GLOBAL;
    Object.assign(
      next,
      readCloud(
        cloud,
        paths.has('authority_host') ? spec.authorityHost : '',
        paths.has('graph_endpoint') ? spec.graphEndpoint : '',
        base,
        context.clouds,
      ),
    );
  }
  if (paths.has('client_secret') || paths.has('certificate')) {
    next.credential = readCredential(spec, paths, context);
  }
  for (const [field, value] of [
    ['directory_id', next.directoryId],
    ['client_id', next.clientId],
    ['cloud', next.cloud],
    ['client_secret', next.credential],
  ] as const) {
    if (value === undefined || value === '') throw new ValidationError(`spec.${field}`, 'is required');
  }
  return next as SpecFields;
}

/** True when a change of these fields invalidates tokens (a new revision). */
export function changesIdentity(before: SpecFields, after: SpecFields): boolean {
  return (
    before.directoryId !== after.directoryId ||
    before.clientId !== after.clientId ||
    before.cloud !== after.cloud ||
    before.authorityHost !== after.authorityHost ||
    before.graphEndpoint !== after.graphEndpoint ||
    before.credential !== after.credential
  );
}

/** A fresh opaque revision id. */
export function newRevision(): string {
  return randomBytes(8).toString('hex');
}

/** The update mask's paths; "*" names every writable field (the credential must then be given). */
export function readUpdateMask(mask: readonly string[] | undefined, spec: TenantCredentialsSpec): Set<SpecPath> {
  const named = readWritableMaskPaths(mask, specPaths) as SpecPath[];
  if (mask?.[0] === '*') {
    const all = new Set<SpecPath>(specPaths);
    if (spec.credential?.$case === 'clientSecret') all.delete('certificate');
    else if (spec.credential?.$case === 'certificate') all.delete('client_secret');
    else throw new ValidationError('spec.client_secret', 'is required when update_mask is "*" (or give spec.certificate)');
    return all;
  }
  const paths = new Set<SpecPath>(named);
  if (paths.has('client_secret') && paths.has('certificate'))
    throw new ValidationError('update_mask', 'names both client_secret and certificate; a credential is one or the other');
  return paths;
}

function readDisplayName(value: string): string {
  const name = value.trim();
  if ([...name].length > 200) throw new ValidationError('spec.display_name', 'must be at most 200 characters');
  if (controlCharacters.test(name))
    throw new ValidationError('spec.display_name', 'must be a single line without control characters');
  return name;
}

function readDirectoryId(value: string): string {
  const id = value.trim().toLowerCase();
  if (id === '') throw new ValidationError('spec.directory_id', 'is required');
  if (['common', 'organizations', 'consumers'].includes(id)) {
    throw new ValidationError(
      'spec.directory_id',
      `"${id}" is not a directory: app-only tokens need the Directory (tenant) ID or a verified domain`,
    );
  }
  if (!guidPattern.test(id) && !domainPattern.test(id))
    throw new ValidationError('spec.directory_id', 'must be a GUID or a domain such as contoso.onmicrosoft.com');
  return id;
}

function cloudEnum(name: string): AuthorityCloud {
  for (const [cloud, hosts] of predefinedClouds) if (hosts.name === name) return cloud;
  return AuthorityCloud.AUTHORITY_CLOUD_CUSTOM;
}

function readCloud(
  cloud: AuthorityCloud,
  authorityHost: string,
  graphEndpoint: string,
  base: SpecFields | undefined,
  clouds: CloudPolicy,
): Pick<SpecFields, 'cloud' | 'authorityHost' | 'graphEndpoint'> {
  if (cloud === AuthorityCloud.AUTHORITY_CLOUD_CUSTOM) {
    return {
      cloud: 'custom',
      authorityHost: readAllowedOrigin(
        authorityHost || (base?.cloud === 'custom' ? base.authorityHost : ''),
        'spec.authority_host',
        clouds,
      ),
      graphEndpoint: readAllowedOrigin(
        graphEndpoint || (base?.cloud === 'custom' ? base.graphEndpoint : ''),
        'spec.graph_endpoint',
        clouds,
      ),
    };
  }
  const hosts = predefinedClouds.get(
    cloud === AuthorityCloud.AUTHORITY_CLOUD_UNSPECIFIED ? AuthorityCloud.AUTHORITY_CLOUD_GLOBAL : cloud,
  );
  if (!hosts) throw new ValidationError('spec.cloud', 'is not a known cloud');
  if (authorityHost) throw new ValidationError('spec.authority_host', 'must be empty unless cloud is AUTHORITY_CLOUD_CUSTOM');
  if (graphEndpoint) throw new ValidationError('spec.graph_endpoint', 'must be empty unless cloud is AUTHORITY_CLOUD_CUSTOM');
  return { cloud: hosts.name, authorityHost: hosts.authorityHost, graphEndpoint: hosts.graphEndpoint };
}

/** A CUSTOM cloud's host: a well-formed https origin that the installation allows (the value is never echoed). */
function readAllowedOrigin(value: string, field: string, clouds: CloudPolicy): string {
  const origin = readHttpsOrigin(value, field);
  if (!clouds.allows(origin)) {
    throw new ValidationError(
      field,
      "must be a national cloud's host or an origin the operator allows (AUTH_BROKER_ALLOWED_CLOUD_ORIGINS)",
    );
  }
  return origin;
}

function readHttpsOrigin(value: string, field: string): string {
  if (!value) throw new ValidationError(field, 'is required when cloud is AUTHORITY_CLOUD_CUSTOM');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(field, 'must be "https://host[:port]"');
  }
  if (url.protocol !== 'https:') throw new ValidationError(field, 'must use https (MSAL refuses anything else)');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new ValidationError(field, 'must be "https://host[:port]" without path, query or credentials');
  }
  return url.origin;
}

function readCredential(spec: TenantCredentialsSpec, paths: ReadonlySet<SpecPath>, context: Context): AppCredential {
  const credential = spec.credential;
  if (paths.has('client_secret')) {
    if (credential?.$case !== 'clientSecret') throw new ValidationError('spec.client_secret', 'is required (the mask names it)');
    const { value, expiresAt } = credential.value;
    if (value.length === 0 || value.length > 1024)
      throw new ValidationError('spec.client_secret.value', 'must be 1-1024 characters');
    if (/\s/.test(value))
      throw new ValidationError('spec.client_secret.value', 'must not contain white space (copy the secret Value exactly)');
    if (!expiresAt)
      throw new ValidationError('spec.client_secret.expires_at', 'is required: enter the expiry Entra ID shows for the secret');
    if (expiresAt.getTime() <= context.now.getTime())
      throw new ValidationError('spec.client_secret.expires_at', 'must be in the future: this secret has already expired');
    return {
      kind: 'client-secret',
      secret: context.secretBox.seal(value, sealingContext.secret(context.tenantId, context.credentialsId)),
      expiresAt,
    };
  }
  if (credential?.$case !== 'certificate') throw new ValidationError('spec.certificate', 'is required (the mask names it)');
  const { privateKeyPem, certificatePem, sendCertificateChain } = credential.value;
  if (privateKeyPem.length === 0 || privateKeyPem.length > 16_384)
    throw new ValidationError('spec.certificate.private_key_pem', 'is required, at most 16384 characters');
  if (certificatePem.length === 0 || certificatePem.length > 65_536)
    throw new ValidationError('spec.certificate.certificate_pem', 'is required, at most 65536 characters');
  const facts = readCertificate({ privateKeyPem, certificatePem }, context.now, 'spec.certificate');
  return {
    kind: 'certificate',
    privateKey: context.secretBox.seal(privateKeyPem, sealingContext.privateKey(context.tenantId, context.credentialsId)),
    certificatePem: sendCertificateChain ? certificatePem : facts.leafPem,
    thumbprintSha1: facts.thumbprintSha1,
    thumbprintSha256: facts.thumbprintSha256,
    subject: facts.subject,
    issuer: facts.issuer,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
    sendCertificateChain,
  };
}
