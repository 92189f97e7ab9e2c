import { EntraError } from '../errors';

/**
 * The AADSTS errors the sandbox answers, paired with the OAuth `error` value and HTTP status Entra uses
 * (notes/graph-and-msal.md §A9; Entra's reference-error-codes page). Descriptions follow Entra's wording.
 */
export const aadsts = {
  missingParameter: (name: string) =>
    new EntraError({
      status: 400,
      error: 'invalid_request',
      aadsts: 900144,
      description: `The request body must contain the following parameter: '${name}'.`,
    }),
  tenantNotFound: (tenant: string) =>
    new EntraError({
      status: 400,
      error: 'invalid_tenant',
      aadsts: 90002,
      description: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    }),
  tenantIdRequired: () =>
    new EntraError({
      status: 400,
      error: 'invalid_request',
      aadsts: 50059,
      description: 'No tenant-identifying information found in either the request or implied by any provided credentials.',
    }),
  appNotFound: (clientId: string, tenant: string) =>
    new EntraError({
      status: 400,
      error: 'unauthorized_client',
      aadsts: 700016,
      description: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    }),
  appDisabled: (clientId: string, name: string) =>
    new EntraError({
      status: 400,
      error: 'unauthorized_client',
      aadsts: 7000112,
      description: `Application '${clientId}'(${name}) is disabled.`,
    }),
  invalidSecret: (clientId: string) =>
    new EntraError({
      status: 401,
      error: 'invalid_client',
      aadsts: 7000215,
      description: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    }),
  expiredSecret: (clientId: string) =>
    new EntraError({
      status: 401,
      error: 'invalid_client',
      aadsts: 7000222,
      description: `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
    }),
  credentialRequired: () =>
    new EntraError({
      status: 401,
      error: 'invalid_client',
      aadsts: 7000218,
      description: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    }),
  assertionTypeInvalid: () =>
    new EntraError({
      status: 400,
      error: 'invalid_request',
      aadsts: 700023,
      description: "Invalid client_assertion_type: it must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
    }),
  assertionKeyNotFound: (thumbprint: string) =>
    new EntraError({
      status: 401,
      error: 'invalid_client',
      aadsts: 700027,
      description: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}']`,
    }),
  assertionKeyExpired: (thumbprint: string) =>
    new EntraError({
      status: 401,
      error: 'invalid_client',
      aadsts: 700027,
      description: `The certificate used to sign the client assertion has expired. [Reason - The key has expired., Thumbprint of key used by client: '${thumbprint}']`,
    }),
  assertionSignature: () =>
    new EntraError({
      status: 401,
      error: 'invalid_client',
      aadsts: 700027,
      description: 'Client assertion failed signature validation.',
    }),
  assertionMalformed: () =>
    new EntraError({ status: 400, error: 'invalid_request', aadsts: 50027, description: 'JWT token is invalid or malformed.' }),
  assertionAudience: (audience: string) =>
    new EntraError({
      status: 401,
      error: 'invalid_client',
      aadsts: 50013,
      description: `Assertion failed validation. [Reason - The audience '${audience}' of the client assertion is not this tenant's token endpoint.]`,
    }),
  assertionIssuer: () =>
    new EntraError({
      status: 401,
      error: 'invalid_client',
      aadsts: 700021,
      description: "Client assertion application identifier doesn't match 'client_id' parameter.",
    }),
  assertionLifetime: () =>
    new EntraError({
      status: 401,
      error: 'invalid_client',
      aadsts: 700024,
      description: 'Client assertion is not within its valid time range.',
    }),
  clientCredentialsScope: (scope: string) =>
    new EntraError({
      status: 400,
      error: 'invalid_scope',
      aadsts: 1002012,
      description: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    }),
  resourceNotFound: (resource: string, tenant: string) =>
    new EntraError({
      status: 400,
      error: 'invalid_resource',
      aadsts: 500011,
      description: `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    }),
  invalidScope: (scope: string) =>
    new EntraError({
      status: 400,
      error: 'invalid_scope',
      aadsts: 70011,
      description: `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
    }),
  permissionNotConfigured: () =>
    new EntraError({
      status: 400,
      error: 'invalid_client',
      aadsts: 650057,
      description:
        "Invalid resource. The client has requested access to a resource which isn't listed in the requested permissions in the client's application registration.",
    }),
  consentRequired: (clientId: string, name: string) =>
    new EntraError({
      status: 400,
      error: 'invalid_grant',
      aadsts: 65001,
      suberror: 'consent_required',
      description: `The user or administrator has not consented to use the application with ID '${clientId}' named '${name}'. Send an interactive authorization request for this user and resource.`,
    }),
  multipleResources: () =>
    new EntraError({
      status: 400,
      error: 'invalid_request',
      aadsts: 28000,
      description:
        'Provided value for the input parameter scope is not valid because it contains more than one resource. Scope openid profile offline_access and more than one resource is not valid.',
    }),
  invalidGrant: () =>
    new EntraError({
      status: 400,
      error: 'invalid_grant',
      aadsts: 70000,
      description: 'Provided grant is invalid or malformed.',
    }),
  codeRedeemed: () =>
    new EntraError({
      status: 400,
      error: 'invalid_grant',
      aadsts: 54005,
      description:
        'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    }),
  grantExpired: () =>
    new EntraError({
      status: 400,
      error: 'invalid_grant',
      aadsts: 70008,
      suberror: 'bad_token',
      description:
        'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    }),
  refreshTokenRevoked: () =>
    new EntraError({
      status: 400,
      error: 'invalid_grant',
      aadsts: 50173,
      suberror: 'bad_token',
      description:
        'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
    }),
  redirectUriMismatch: (redirectUri: string, clientId: string) =>
    new EntraError({
      status: 400,
      error: 'invalid_request',
      aadsts: 50011,
      description: `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
    }),
  pkceMismatch: () =>
    new EntraError({
      status: 400,
      error: 'invalid_grant',
      aadsts: 50148,
      description: 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.',
    }),
  // Single-page apps: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#redirect-uris-for-single-page-apps-spas
  // (a spa redirect URI without an Origin header is refused; client credentials never with one). The texts are Entra's.
  crossOriginNotSpa: (origin: string) =>
    new EntraError({
      status: 400,
      error: 'invalid_request',
      aadsts: 9002326,
      description: `Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '${origin}'.`,
    }),
  spaRequiresCrossOrigin: () =>
    new EntraError({
      status: 400,
      error: 'invalid_request',
      aadsts: 9002327,
      description: "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
    }),
  spaPkceRequired: () =>
    new EntraError({
      status: 400,
      error: 'invalid_request',
      aadsts: 9002325,
      description: 'Proof Key for Code Exchange is required for cross-origin authorization code redemption.',
    }),
  invalidPassword: () =>
    new EntraError({
      status: 400,
      error: 'invalid_grant',
      aadsts: 50126,
      description: 'Error validating credentials due to invalid username or password.',
    }),
  /** A shared mailbox's account: Exchange creates it disabled, so nobody signs in as it. */
  userDisabled: () =>
    new EntraError({
      status: 400,
      error: 'invalid_grant',
      aadsts: 50057,
      description: 'The user account is disabled.',
    }),
  userNotFound: (user: string, tenant: string) =>
    new EntraError({
      status: 400,
      error: 'invalid_grant',
      aadsts: 50034,
      description: `The user account ${user} does not exist in the ${tenant} directory. To sign into this application, the account must be added to the directory.`,
    }),
  loginRequired: () =>
    new EntraError({
      status: 400,
      error: 'login_required',
      aadsts: 50058,
      description: 'A silent sign-in request was sent but no user is signed in.',
    }),
  authorizationPending: () =>
    new EntraError({
      status: 400,
      error: 'authorization_pending',
      aadsts: 70016,
      description: 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
    }),
  deviceCodeExpired: () =>
    new EntraError({ status: 400, error: 'expired_token', aadsts: 70019, description: 'Verification code expired.' }),
  deviceCodeDeclined: () =>
    new EntraError({
      status: 400,
      error: 'authorization_declined',
      aadsts: 70020,
      description: 'The authorization request was denied by the user.',
    }),
  unsupportedGrant: (grant: string) =>
    new EntraError({
      status: 400,
      error: 'unsupported_grant_type',
      aadsts: 70003,
      description: `The app requested an unsupported grant type '${grant}'.`,
    }),
  transient: (status: number, retryAfterSeconds?: number) =>
    new EntraError({
      status,
      error: 'temporarily_unavailable',
      aadsts: status === 429 ? 90055 : 90033,
      description:
        status === 429
          ? 'The application is being throttled: too many requests. Retry after the time in the Retry-After header.'
          : 'A transient error has occurred. Please try again.',
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    }),
};
