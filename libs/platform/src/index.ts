export {
  AlreadyExistsError,
  ConfigError,
  ConflictError,
  type ErrorCode,
  FailedPreconditionError,
  IdempotencyKeyReusedError,
  isMailrouteError,
  MailrouteError,
  type MailrouteErrorOptions,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
  ValidationError,
} from './errors';
export { errorTrailers, type MappedStatus } from './grpc-status';
export { backoffDelayMs, type BackoffOptions, isRetryable, type RetryOptions, sleep, withRetry } from './retry';
export {
  addConfigProblem,
  checkGrpcClientTlsRules,
  type ConfigSchema,
  env,
  type Env,
  loadConfig,
  type ServiceConfig,
  grpcClientTlsSchema,
  serviceConfigSchema,
  serviceSchema,
} from './config';
export { createLogger, type Logger, type LoggerOptions, type LogLevel } from './logger';
export {
  contextFromStored,
  currentTraceContext,
  endingSpans,
  registerTracePropagation,
  spanContextFromStored,
  startTelemetry,
  type StoredTraceContext,
  type Telemetry,
  type TelemetryOptions,
} from './telemetry';
export { createGrpcServer, type GrpcServer, type GrpcServerOptions, serveWith, type ServiceRegistration } from './grpc-server';
export { createGrpcClient, type GrpcClientHandle, type GrpcClientOptions } from './grpc-client';
export { grpcClientCredentials, grpcServerCredentials, type GrpcTlsConfig } from './grpc-tls';
export { createShutdown, onTerminationSignals, type Shutdown, type ShutdownStep } from './shutdown';
export { type RunningService, runService, type RunServiceOptions, type ServiceParts } from './service';
export {
  createSecretBox,
  type EncryptionKey,
  parseEncryptionKeys,
  type SealedValue,
  type SecretBox,
  type SecretBoxOptions,
} from './secret-box';
export {
  type ApiKeyEntry,
  type CallerAuthenticator,
  type CallerAuthenticatorOptions,
  type CallerIdentity,
  createCallerAuthenticator,
  hashBearerCredential,
  parseApiKeys,
  parseServiceTokens,
  type ServiceCallContext,
  serviceCallerMiddleware,
  type ServiceCallerMiddlewareOptions,
  type ServiceIdentity,
  type ServiceTokenEntry,
  type TenantCallContext,
  tenantCallerMiddleware,
  type TenantCallerMiddlewareOptions,
  type TenantClientIdentity,
} from './caller-auth';
export { type Metrics, type MetricsOptions, startMetrics } from './metrics';
export { type WorkloadManagerCallerOptions, workloadManagerCallerMiddleware } from './supervisor-caller';
export {
  createEntraTokenVerifier,
  type EntraAgentIdentity,
  type EntraTokenVerifier,
  type EntraTokenVerifierOptions,
  parseAgentDirectories,
  staticJwks,
} from './agent-auth';
export {
  type AccessTokenPrincipal,
  type AuthBrokerTokenClient,
  createAuthBrokerTokenClient,
  type IssuedAccessToken,
} from './auth-broker-tokens';
export {
  ensurePrivateDirectory,
  ensurePrivateFile,
  ensurePrivateSqliteFile,
  ensurePrivateTree,
  privateFileMode,
  writePrivateFile,
} from './private-files';
export {
  type IdRule,
  idRuleOf,
  idRules,
  readId,
  readMailboxAddress,
  readResourceId,
  readTenantId,
  readUpdateMask,
  requestDescriptorOf,
  tsProtoName,
} from './request-fields';
export { payloadFingerprint } from './idempotency';
export {
  addressProblem,
  assertValidOutgoingMessage,
  attachmentContentTypeProblem,
  attachmentNameProblem,
  type OutgoingMessageIssue,
  validateOutgoingMessage,
} from './outgoing-message-validation';
export { type BoundedParse, boundHtml, defaultHtmlLimits, type HtmlLimits } from './bounded-html';
export { type HtmlText, htmlToText } from './html-to-text';
