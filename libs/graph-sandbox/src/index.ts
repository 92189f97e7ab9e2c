/**
 * The graph-sandbox's public surface for other projects' tests and the embedded default: start a sandbox
 * in-process, drive it with the admin client, and trust its CA. Never use it in production.
 */
export { createGraphSandbox, type GraphSandbox, type GraphSandboxEndpoints, type GraphSandboxOptions } from './server';
export {
  GraphSandboxAdminClient,
  type AccessPolicyView,
  type AddedCertificate,
  type AppView,
  type CreatedSecret,
  type FolderSummary,
  type MailboxView,
  type MessageSummary,
  type TenantView,
} from './admin/admin-client';
export type { InboundMailRequest, RoleAssignmentRequest, TrafficRequest } from './admin/admin-schemas';
export { demoProfile, type DemoSummary, type DemoUser } from './admin/demo-profile';
export { trustCertificateAuthority } from './transport/ca-trust';
export type { FaultRule, FaultRuleInput } from './throttling/fault-injector';
export type { SentRecord, TenantStats } from './model/model.types';
export {
  SubscriptionsAdminClient,
  type DeliveryRecord,
  type LifecycleEvent,
  type NotificationFault,
  type NotificationFaultInput,
  type SubscriptionAdminView,
} from './subscriptions/subscriptions-admin-client';
