import { NotFoundError, ValidationError } from '../../engine/errors.ts';
import { pathId } from '../api-schemas.ts';

/** A numeric id from the path, by the schema the API's routes use; anything else is simply not found. */
export function idParam(params: unknown, name = 'id'): number {
  const parsed = pathId.safeParse((params as Record<string, unknown>)[name]);
  if (!parsed.success) throw new NotFoundError();
  return parsed.data;
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
