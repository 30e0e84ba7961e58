import type { FieldProblem } from '../domain/application.ts';

/** Every refusal the engine and the routes give is one of these; the HTTP layer maps them to statuses. */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
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
    super('conflict', message, 409);
  }
}

/**
 * The state does not take this event now. `reason` names a catalogue message that says why in a
 * coordinator's words, with `params` to fill it in.
 */
export class NotAllowedError extends DomainError {
  constructor(
    message: string,
    readonly params: Record<string, string | number> = {},
    readonly reason?: string,
  ) {
    super('not-allowed', message, 422);
  }
}

/** Bad input: the problems are tied to fields, so that forms can show them beside each one. */
export class ValidationError extends DomainError {
  constructor(message: string, readonly problems: FieldProblem[]) {
    super('validation', message, 422);
  }
}

/** The role may not do this. */
export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super('forbidden', message, 403);
  }
}

/** Not there, or not for this user's eyes: both answer the same so that existence does not leak. */
export class NotFoundError extends DomainError {
  constructor(message = 'not found') {
    super('not-found', message, 404);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'authentication required') {
    super('unauthorized', message, 401);
  }
}
