// Public API of @mailroute/routing-engine: pure routing domain, no I/O, no clock (time is passed in
// as epoch milliseconds). See ../README.md for the guarantees the service relies on.
export * from './errors';
export * from './model';
export * from './skills';
export {
  safeRegexLimits,
  compileSafeRegex,
  type SafeRegex,
  type SafeRegexCompileResult,
  type SafeRegexSyntaxError,
} from './safe-regex';
export * from './routing-rules';
export * from './queue-policy';
export * from './escalation';
export * from './interaction-state';
export * from './assignment';
export { durationToMillis } from './validation';
export * from './rule-order';
export * from './routing-explanation';
export * from './business-calendar';
export * from './icalendar-holidays';
export * from './sla-clock';
export * from './message-template';
export * from './acknowledgement-policy';
export * from './interaction-reference';
export * from './signature';
