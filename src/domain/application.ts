import { z } from 'zod';
import { documentFields } from './documents.ts';
import type { FieldProblem } from './problems.ts';
import { text } from './text.ts';

export const projectTypes = [
  'water-supply',
  'roads',
  'street-lighting',
  'culture',
  'sport',
  'playground',
  'cemetery',
  'waste',
  'fire-safety',
  'other',
] as const;
export type ProjectType = (typeof projectTypes)[number];

/** 100 billion roubles: far above any programme, far below what a double loses precision on. */
const MAX_KOPECKS = 10_000_000_000_000;
const kopecks = z.number().int().min(0).max(MAX_KOPECKS);
const people = z.number().int().min(0).max(200_000_000);
const shortText = text({ max: 300 });
const longText = text({ max: 5000, multiline: true });

export const costsSchema = z.strictObject({
  subsidy: kopecks,
  localBudget: kopecks,
  residents: kopecks,
  business: kopecks,
});
export type Costs = z.infer<typeof costsSchema>;

/** Labour and materials given in kind, valued in kopecks. */
export const nonMonetarySchema = z.strictObject({
  labour: kopecks,
  materials: kopecks,
});

/** The whole application form; every field is optional while the application is a draft. */
export const formSchema = z.strictObject({
  title: shortText,
  projectType: z.enum(projectTypes),
  settlement: shortText,
  // At least one person lives in a settlement: one bound, so that −5 is told the real lower limit.
  population: z.number().int().min(1).max(200_000_000),
  beneficiaries: people,
  meetingAttendance: people,
  problem: longText,
  description: longText,
  durationMonths: z.number().int().min(1).max(60),
  costs: costsSchema.partial(),
  nonMonetary: nonMonetarySchema.partial(),
});
export const formPatchSchema = formSchema.partial();
export type ApplicationForm = z.infer<typeof formPatchSchema>;

/** The fields of the form in the order the form shows them; money fields are paths into `costs`. */
export const formFields = [
  'title',
  'projectType',
  'settlement',
  'population',
  'beneficiaries',
  'meetingAttendance',
  'problem',
  'description',
  'durationMonths',
  'costs.subsidy',
  'costs.localBudget',
  'costs.residents',
  'costs.business',
  'nonMonetary.labour',
  'nonMonetary.materials',
] as const;
export type FormField = (typeof formFields)[number];

/** A remark is tied to a field of the form, to a document (`document.<kind>`), or to nothing in particular. */
export const remarkSchema = z.strictObject({
  field: z.enum([...formFields, ...documentFields, 'general']).default('general'),
  text: text({ max: 2000, multiline: true }),
});
export type Remark = z.infer<typeof remarkSchema>;

/** Remarks come as one text or as a list of remarks tied to fields. */
export const remarksSchema = z
  .union([text({ max: 2000, multiline: true }), z.array(remarkSchema).min(1).max(100)])
  .transform((value): Remark[] => (typeof value === 'string' ? [{ field: 'general', text: value }] : value));

export const reasonSchema = text({ max: 2000, multiline: true });

/** How each form field is typed in by a person: money fields are kopecks, shown and typed as roubles. */
export const fieldKinds: Record<string, 'text' | 'textarea' | 'select' | 'int' | 'money'> = {
  title: 'text',
  projectType: 'select',
  settlement: 'text',
  population: 'int',
  beneficiaries: 'int',
  meetingAttendance: 'int',
  problem: 'textarea',
  description: 'textarea',
  durationMonths: 'int',
  'costs.subsidy': 'money',
  'costs.localBudget': 'money',
  'costs.residents': 'money',
  'costs.business': 'money',
  'nonMonetary.labour': 'money',
  'nonMonetary.materials': 'money',
};

export interface ProgrammeRules {
  capKopecks: number;
  minLocalShareBp: number;
  minResidentsShareBp: number;
}

export type { FieldProblem } from './problems.ts';

export function totalCostKopecks(costs: ApplicationForm['costs']): number {
  if (!costs) return 0;
  return (costs.subsidy ?? 0) + (costs.localBudget ?? 0) + (costs.residents ?? 0) + (costs.business ?? 0);
}

/** Merges a patch into the form: nested cost objects merge field by field. */
export function mergeForm(form: ApplicationForm, patch: ApplicationForm): ApplicationForm {
  const merged: ApplicationForm = { ...form, ...patch };
  if (patch.costs) merged.costs = { ...form.costs, ...patch.costs };
  if (patch.nonMonetary) merged.nonMonetary = { ...form.nonMonetary, ...patch.nonMonetary };
  return merged;
}

const requiredFields = [
  'title',
  'projectType',
  'settlement',
  'population',
  'beneficiaries',
  'meetingAttendance',
  'problem',
  'description',
  'durationMonths',
  'costs.subsidy',
  'costs.localBudget',
  'costs.residents',
  'costs.business',
] as const;

function valueAt(form: ApplicationForm, field: string): unknown {
  const [head, tail] = field.split('.') as [keyof ApplicationForm, string | undefined];
  const value = form[head];
  if (tail === undefined) return value;
  return value && typeof value === 'object' ? (value as Record<string, unknown>)[tail] : undefined;
}

/**
 * Share `part / total` below `minBp` basis points, in integers so that no rounding decides: BigInt,
 * because the products of amounts near the schema's maximum exceed 2^53 and a double rounds them.
 */
function shareBelow(part: number, total: number, minBp: number): boolean {
  return BigInt(part) * 10_000n < BigInt(total) * BigInt(minBp);
}

/**
 * Why the form cannot be submitted under the programme's rules: one problem per field at most,
 * an empty list when it can.
 */
export function submitProblems(form: ApplicationForm, rules: ProgrammeRules): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const field of requiredFields) {
    const value = valueAt(form, field);
    if (value === undefined || value === null || value === '') problems.push({ field, code: 'required' });
  }
  const costs = form.costs ?? {};
  for (const key of ['subsidy', 'localBudget', 'residents', 'business'] as const) {
    const value = costs[key];
    if (value !== undefined && value < 0) problems.push({ field: `costs.${key}`, code: 'negative' });
  }
  const total = totalCostKopecks(costs);
  const complete = (f: string) => !problems.some((p) => p.field === f);
  if (problems.some((p) => p.field.startsWith('costs.'))) return problems;
  if (total <= 0) {
    problems.push({ field: 'costs.subsidy', code: 'total-zero' });
    return problems;
  }
  if ((costs.subsidy ?? 0) > rules.capKopecks)
    problems.push({ field: 'costs.subsidy', code: 'above-cap', params: { cap: rules.capKopecks } });
  if (shareBelow(costs.localBudget ?? 0, total, rules.minLocalShareBp))
    problems.push({ field: 'costs.localBudget', code: 'share-below', params: { min: rules.minLocalShareBp } });
  if (shareBelow(costs.residents ?? 0, total, rules.minResidentsShareBp))
    problems.push({ field: 'costs.residents', code: 'share-below', params: { min: rules.minResidentsShareBp } });
  const population = form.population ?? 0;
  if (complete('beneficiaries') && complete('population') && (form.beneficiaries ?? 0) > population)
    problems.push({ field: 'beneficiaries', code: 'above-population', params: { population } });
  if (complete('meetingAttendance') && complete('population') && (form.meetingAttendance ?? 0) > population)
    problems.push({ field: 'meetingAttendance', code: 'above-population', params: { population } });
  return problems;
}
