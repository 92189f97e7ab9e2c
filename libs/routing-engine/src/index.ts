// Public API of @mailroute/routing-engine: pure routing domain, no I/O, no clock (time is passed in
// as epoch milliseconds). See ../README.md for the guarantees the service relies on.
export {
  assertNoViolations,
  type FieldViolation,
  type RoutingEngineErrorCode,
  RoutingValidationError,
  type TransitionRejectionReason,
} from './errors';
export {
  type AffinityHint,
  type AgentSnapshot,
  checkDirectOffer,
  type DirectOfferRefusal,
  type EpochMillis,
  toAgentCapacity,
  type WaitingInteraction,
} from './model';
export { type NormalizedRequirements, type SkillLevels, type SkillRelaxation, toSkillLevels } from './skills';
export { compileSafeRegex, type SafeRegex, type SafeRegexCompileResult, type SafeRegexSyntaxError } from './safe-regex';
export {
  type CompiledRuleSet,
  compileRuleSet,
  type ConditionField,
  evaluateRules,
  type RoutableEmail,
  type RoutingEvaluation,
  type RoutingOutcome,
  type RuleTrace,
  validateRoutingRule,
  validateSenderList,
} from './routing-rules';
export {
  createQueuePolicy,
  defaultQueuePolicy,
  type EscalationPolicyStep,
  isQueueOpen,
  type QueueHoursPolicy,
  type QueuePolicy,
  type QueueStrategyName,
  serviceLevelDueAt,
  slaDueSoonMs,
  toQueuePolicy,
  validateQueue,
} from './queue-policy';
export { type EscalationDecision, type EscalationOutcome, type OutOfHoursOverflowDecision } from './escalation';
export {
  type InteractionChange,
  type InteractionEvent,
  type InteractionEventType,
  type InteractionSnapshot,
  transition,
  type TransitionActor,
  type TransitionRejection,
  type TransitionResult,
} from './interaction-state';
export {
  type AssignmentInput,
  type AssignmentPlan,
  planAssignments,
  planAssignmentsNaive,
  type PlannedOffer,
} from './assignment';
export { orderRules, placeNewRule, planRulePositions, type PositionWrite, type RulePlace } from './rule-order';
export { explainRouting, type RoutingExplanation, validateRoutingSample } from './routing-explanation';
export {
  type BusinessCalendar,
  type CalendarDefinition,
  type CalendarException,
  type CalendarHoliday,
  type CalendarTimeRange,
  type CalendarWeekday,
  compileCalendar,
  isOpenAt,
  localDateOf,
  nextClosing,
  nextOpening,
  validateCalendar,
} from './business-calendar';
export { type ICalendarHolidayImport, importICalendarHolidays } from './icalendar-holidays';
export { slaState, type FirstResponseDue, type ServiceLevelClock, type SlaState } from './sla-clock';
export {
  type MessageTemplateContent,
  type RenderedMessage,
  renderMessageTemplate,
  templateKindOf,
  templateMatches,
  type TemplatePlaceholder,
  templatePlaceholders,
  type TemplateValues,
  validateTemplateResource,
} from './message-template';
export {
  acknowledgementHeaders,
  type AcknowledgementDecision,
  type AcknowledgementKind,
  type AcknowledgementRefusal,
  decideAcknowledgement,
  defaultAcknowledgementPeriodMs,
} from './acknowledgement-policy';
export {
  appendSignature,
  chooseSignatures,
  type SignatureParts,
  type SignatureSource,
  toSignatureParts,
  validateMailboxSettings,
  validateSignatureRule,
} from './signature';
export { findSubjectReference, formatInteractionReference, withSubjectReference } from './interaction-reference';
export { nextThresholdPhase, queueAlertThresholds, type ThresholdPhase } from './alert-thresholds';
