import type { ZodError } from 'zod';

/**
 * Why something cannot be done, as a code with parameters: the machines' `whyNot` rules, the
 * engine's refusals and the forms all speak it, and the catalogues put it in words. A problem
 * tied to a field is shown beside that field; one without a field refuses the whole action.
 */
export interface Problem {
  code: string;
  field?: string;
  params?: Record<string, string | number>;
}

/** A problem shown beside its field. */
export interface FieldProblem extends Problem {
  field: string;
}

/** A refusal that no field can fix: a closed stage, an unfinished checklist, another path. */
export const isBlocking = (problem: Problem): boolean => problem.field === undefined;

/**
 * zod's issues as field problems (`general` where the issue has no path), with what is allowed as
 * parameters — `min`, `max`, `origin` (number, string, array), `expected` — so that the catalogues
 * say it in the person's language; zod's own English `message` is kept for the logs only.
 */
export function zodProblems(error: ZodError): FieldProblem[] {
  return error.issues.map((issue) => {
    const params: Record<string, string | number> = { message: issue.message };
    const raw = issue as unknown as Record<string, unknown>;
    if (typeof raw.origin === 'string') params.origin = raw.origin;
    if (typeof raw.maximum === 'number' || typeof raw.maximum === 'bigint') params.max = Number(raw.maximum);
    if (typeof raw.minimum === 'number' || typeof raw.minimum === 'bigint') params.min = Number(raw.minimum);
    if (typeof raw.expected === 'string') params.expected = raw.expected;
    return {
      field: issue.path.filter((p) => typeof p !== 'symbol').join('.') || 'general',
      // A refinement may name its own problem (src/domain/text.ts), so that forms find its message in the catalogue.
      code: issue.code === 'custom' && typeof issue.params?.code === 'string' ? issue.params.code : issue.code,
      params,
    };
  });
}
