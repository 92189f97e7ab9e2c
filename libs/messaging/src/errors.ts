import { MailrouteError } from '@mailroute/platform';

/** The bus was used after close(), or a subscription after it closed. */
export class BusClosedError extends MailrouteError {
  constructor(what: string) {
    super('FAILED_PRECONDITION', `${what}: the event bus is closed`);
  }
}

/** Kafka (or the in-process bus) could not accept or deliver; retryable. */
export class BusUnavailableError extends MailrouteError {
  constructor(message: string, cause?: unknown) {
    super('UNAVAILABLE', message, { cause, retryable: true });
  }
}
