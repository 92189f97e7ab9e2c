export { randomId, waitFor, type WaitForOptions } from './wait-for';
export { testInfra, type TestInfra, testInfraEnv } from './test-infra';
export { describeEventBusContract, type EventBusContractOptions } from './event-bus.contract';
export { type RepositoryContractOptions } from './repository-contract';
export { type ServiceProcess, startServiceProcess, workspaceRoot } from './service-process';
export { describeDocumentTableContract } from './document-table.contract';
export { describeLeaseRepositoryContract } from './lease.contract';
export { describeAppCredentialsRepositoryContract, sampleAppCredentials } from './app-credentials.contract';
export {
  createSandboxMailTenant,
  createSandboxTokenProvider,
  type SandboxMailTenant,
  startTestGraphSandbox,
} from './graph-sandbox-tenant';
export {
  type AuthBrokerProcess,
  type BenchInfra,
  createTestCertificateAuthority,
  type DedicatedFerretDb,
  type DedicatedKafka,
  type RecordedRequest,
  type RecordingProxy,
  type SecureKafka,
  type SecureKafkaListeners,
  startAuthBrokerProcess,
  startBenchInfra,
  startDedicatedFerretDb,
  startDedicatedKafka,
  startRecordingProxy,
  startSecureKafka,
  type TestCertificateAuthority,
} from './process-harness';
export { freePort, signInWithDeviceCode, waitForServing } from './service-fleet';
export {
  describeInteractionRepositoryContract,
  type InteractionRepositoryContractOptions,
  type VersionedRecords,
} from './interaction-repository.contract';
export { type MetricSample, metricValue, parsePrometheusText, scrapeMetrics } from './prometheus-scrape';
export { type CollectedSpan, type OtlpCollector, OtlpSpanKind, startOtlpCollector } from './otlp-collector';
export { type ConfigurationErrorCase, configurationExitCode, describeConfigurationErrors } from './configuration-errors.contract';
export { seededRandom } from './seeded-random';
export { describeBlobStoreContract } from './blob-store.contract';
export { launchChromium, type LaunchChromiumOptions, saveScreenshot, type TestBrowser } from './browser';
export {
  createSignedInDirectory,
  type SignedInDirectory,
  signInAsSpa,
  type SpaSignInOptions,
  type SpaTokens,
} from './spa-sign-in';
export { grpcFailure, startSupervisorCallers, type SupervisorCallers } from './supervisor-callers';
