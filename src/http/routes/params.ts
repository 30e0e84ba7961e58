import { NotFoundError, ValidationError } from '../../engine/errors.ts';

/** A numeric id from the path; anything else is simply not found. */
export function idParam(params: unknown, name = 'id'): number {
  const value = (params as Record<string, unknown>)[name];
  if (typeof value !== 'string' || !/^[1-9]\d{0,14}$/.test(value)) throw new NotFoundError();
  return Number(value);
}

/** The JSON body as an object, or a 422 that says so. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('the body must be a JSON object', [{ field: 'body', code: 'invalid_type' }]);
  }
  return body as Record<string, unknown>;
}

/** expectedVersion from the body, or from `If-Match: "N"` as an ETag. */
export function expectedVersionOf(body: Record<string, unknown>, ifMatch: unknown): number {
  const fromHeader = typeof ifMatch === 'string' ? Number(ifMatch.replace(/^W\//, '').replace(/"/g, '')) : undefined;
  const value = body.expectedVersion ?? fromHeader;
  const number = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) {
    throw new ValidationError('expectedVersion is required', [{ field: 'expectedVersion', code: 'required' }]);
  }
  return number;
}
