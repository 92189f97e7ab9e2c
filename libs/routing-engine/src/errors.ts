/**
 * The routing engine's errors: a closed list of codes, none retryable (the engine is pure, so the
 * same input fails the same way). libs/platform maps them to gRPC status:
 * `invalid-argument` → INVALID_ARGUMENT naming `field`, `failed-precondition` → FAILED_PRECONDITION.
 */
export type RoutingEngineErrorCode = 'invalid-argument' | 'failed-precondition';

/** One invalid field: `field` is the proto (snake_case) path, e.g. `condition.subject_patterns[2].regex`. */
export interface FieldViolation {
  field: string;
  message: string;
}

abstract class RoutingEngineError extends Error {
  abstract readonly code: RoutingEngineErrorCode;
  readonly retryable = false;
}

/** A configuration object (rule, queue, sender list) failed validation. */
export class RoutingValidationError extends RoutingEngineError {
  readonly code = 'invalid-argument';
  /** The first violation's field, for callers that report one. */
  readonly field: string;

  constructor(readonly violations: readonly FieldViolation[]) {
    const first = violations[0] ?? { field: '', message: 'invalid' };
    super(violations.map((violation) => `${violation.field}: ${violation.message}`).join('; '));
    this.name = 'RoutingValidationError';
    this.field = first.field;
  }
}

/** Why an interaction transition was refused (see `transition`). */
export type TransitionRejectionReason =
  'invalid-transition' | 'not-the-agent' | 'offer-expired' | 'offer-not-expired' | 'invalid-event';

/** An interaction event that its current state does not allow. */
export class IllegalTransitionError extends RoutingEngineError {
  readonly code = 'failed-precondition';

  constructor(
    readonly reason: TransitionRejectionReason,
    message: string,
  ) {
    super(message);
    this.name = 'IllegalTransitionError';
  }
}

/** Throws a RoutingValidationError when there is any violation. */
export function assertNoViolations(violations: readonly FieldViolation[]): void {
  if (violations.length > 0) throw new RoutingValidationError(violations);
}
