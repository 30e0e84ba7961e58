import type { FieldProblem, Problem } from '../domain/problems.ts';

/**
 * Every refusal the engine and the workflows give is one of these. They carry a code and what a
 * client needs to act, never an HTTP status: the HTTP layer's error plugin maps the classes.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The client's expectedVersion is stale: someone else changed the stream first. */
export class ConflictError extends DomainError {
  constructor(
    message: string,
    readonly current: { state: string; version: number },
  ) {
    super('conflict', message);
  }
}

/**
 * The state does not take this event now. `reason` names a catalogue message that says why in a
 * person's words, with `params` to fill it in.
 */
export class NotAllowedError extends DomainError {
  constructor(
    message: string,
    readonly params: Record<string, string | number> = {},
    readonly reason?: string,
    /** Every blocking problem the rules found, when there are several (issue 11: each short source named). */
    readonly blockers: Problem[] = [],
  ) {
    super('not-allowed', message);
  }
}

/** Bad input: the problems are tied to fields, so that forms can show them beside each one. */
export class ValidationError extends DomainError {
  constructor(
    message: string,
    readonly problems: FieldProblem[],
  ) {
    super('validation', message);
  }
}

/** The role may not do this. */
export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

/** Not there, or not for this user's eyes: both answer the same so that existence does not leak. */
export class NotFoundError extends DomainError {
  constructor(message = 'not found') {
    super('not-found', message);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'authentication required') {
    super('unauthorized', message);
  }
}
