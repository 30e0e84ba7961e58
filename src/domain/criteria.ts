import { z } from 'zod';

/**
 * The commission's scoring criteria (issue 5), modelled on the practice of Russian local-initiative
 * programmes (ППМИ): six criteria computed from the application form, and the members' rating of
 * social significance. Each criterion gives `weight × grade` points, the grade running from 0 to 1.
 *
 * Points are kept in hundredths of a point (integers): each criterion is rounded half-up to 0.01
 * and the total is the plain sum, so that what the protocol prints is exactly what was compared.
 */

export const criterionKeys = [
  'residents-share',
  'business-share',
  'local-share-above-minimum',
  'beneficiaries-share',
  'attendance-share',
  'non-monetary-share',
  'social-significance',
] as const;
export type CriterionKey = (typeof criterionKeys)[number];

/** The only criterion that comes from `score` events; the others are computed from the form. */
export const memberCriterion: CriterionKey = 'social-significance';

/** The members rate social significance from 0 to 5. */
export const SIGNIFICANCE_MAX = 5;

export interface CriterionSetting {
  key: CriterionKey;
  /** The points a criterion gives at its full grade; 0 switches it off. */
  weight: number;
  /** The share (basis points, 1000 = 10 %) at which a form criterion reaches its full grade; null for the members' rating. */
  fullAtBp: number | null;
}

export interface CommissionSettings {
  criteria: CriterionSetting[];
  /** The least number of member scores each application needs before the decision. */
  quorum: number;
  /** Offer the first application that does not fit in the rest of the fund what is left of it. */
  partialAward: boolean;
}

/** The default set: 100 points in all, a quarter of them for the members' rating. */
export const defaultCommissionSettings: CommissionSettings = {
  criteria: [
    { key: 'residents-share', weight: 20, fullAtBp: 1000 },
    { key: 'business-share', weight: 10, fullAtBp: 1000 },
    { key: 'local-share-above-minimum', weight: 10, fullAtBp: 1000 },
    { key: 'beneficiaries-share', weight: 15, fullAtBp: 10_000 },
    { key: 'attendance-share', weight: 10, fullAtBp: 1000 },
    { key: 'non-monetary-share', weight: 10, fullAtBp: 1000 },
    { key: 'social-significance', weight: 25, fullAtBp: null },
  ],
  quorum: 3,
  partialAward: false,
};

const criterionSchema = z.strictObject({
  key: z.enum(criterionKeys),
  weight: z.number().int().min(0).max(100),
  fullAtBp: z.number().int().min(1).max(10_000).nullable(),
});

/** One schema for the admin's form, the API and the stored row. */
export const commissionSettingsSchema = z
  .strictObject({
    criteria: z.array(criterionSchema).length(criterionKeys.length),
    quorum: z.number().int().min(1).max(50),
    partialAward: z.boolean(),
  })
  .superRefine((settings, ctx) => {
    const keys = new Set(settings.criteria.map((c) => c.key));
    if (keys.size !== criterionKeys.length) ctx.addIssue({ code: 'custom', path: ['criteria'], message: 'each criterion exactly once' });
    settings.criteria.forEach((c, i) => {
      if ((c.key === memberCriterion) !== (c.fullAtBp === null)) {
        ctx.addIssue({ code: 'custom', path: ['criteria', i, 'fullAtBp'], message: c.key === memberCriterion ? 'the members’ rating has no share' : 'a share is required' });
      }
    });
    if (settings.criteria.every((c) => c.weight === 0)) ctx.addIssue({ code: 'custom', path: ['criteria'], message: 'at least one criterion must weigh something' });
  });

/** What the form-derived criteria read from an application, all integers (money in kopecks). */
export interface ScoringInput {
  population: number;
  beneficiaries: number;
  meetingAttendance: number;
  subsidyKopecks: number;
  localBudgetKopecks: number;
  residentsKopecks: number;
  businessKopecks: number;
  nonMonetaryKopecks: number;
  /** Each member's current rating, in hundredths (0…500). */
  significancesCenti: readonly number[];
}

export interface ProgrammeScoringRules {
  minLocalShareBp: number;
}

/** A grade as an exact fraction `num / den`, clamped to 0…1 when points are computed. */
interface Grade {
  num: bigint;
  den: bigint;
}

export interface CriterionResult {
  key: CriterionKey;
  /** Points in hundredths of a point. */
  pointsCenti: number;
  /** What was measured, for people: a share in per cent, or the average rating; null when it cannot be measured. */
  measure: number | null;
}

export interface ScoreResult {
  criteria: CriterionResult[];
  totalCenti: number;
}

/** a / b rounded half-up, for non-negative integers. */
function roundHalfUp(a: bigint, b: bigint): bigint {
  return (2n * a + b) / (2n * b);
}

const big = (n: number) => BigInt(Math.max(0, Math.trunc(n)));

/** The share part/whole reaching its full grade at fullAtBp: grade = part·10000 / (whole·fullAtBp). */
function shareGrade(part: number, whole: number, fullAtBp: number): Grade | null {
  if (whole <= 0) return null;
  return { num: big(part) * 10_000n, den: big(whole) * BigInt(fullAtBp) };
}

function percent(part: number, whole: number): number | null {
  return whole > 0 ? (part / whole) * 100 : null;
}

export function totalCost(input: ScoringInput): number {
  return input.subsidyKopecks + input.localBudgetKopecks + input.residentsKopecks + input.businessKopecks;
}

/** The grade and the measured value of one criterion. */
function gradeOf(setting: CriterionSetting, input: ScoringInput, rules: ProgrammeScoringRules): { grade: Grade | null; measure: number | null } {
  const total = totalCost(input);
  const full = setting.fullAtBp ?? 10_000;
  switch (setting.key) {
    case 'residents-share':
      return { grade: shareGrade(input.residentsKopecks, total, full), measure: percent(input.residentsKopecks, total) };
    case 'business-share':
      return { grade: shareGrade(input.businessKopecks, total, full), measure: percent(input.businessKopecks, total) };
    case 'local-share-above-minimum': {
      if (total <= 0) return { grade: null, measure: null };
      // (local/total − min) / full  =  (local·10000 − min·total) / (total·full)
      const excess = BigInt(input.localBudgetKopecks) * 10_000n - BigInt(rules.minLocalShareBp) * BigInt(total);
      const measure = Math.max(0, (input.localBudgetKopecks / total) * 100 - rules.minLocalShareBp / 100);
      return { grade: { num: excess > 0n ? excess : 0n, den: BigInt(total) * BigInt(full) }, measure };
    }
    case 'beneficiaries-share':
      return { grade: shareGrade(input.beneficiaries, input.population, full), measure: percent(input.beneficiaries, input.population) };
    case 'attendance-share':
      return { grade: shareGrade(input.meetingAttendance, input.population, full), measure: percent(input.meetingAttendance, input.population) };
    case 'non-monetary-share':
      return { grade: shareGrade(input.nonMonetaryKopecks, total, full), measure: percent(input.nonMonetaryKopecks, total) };
    case 'social-significance': {
      const n = input.significancesCenti.length;
      if (n === 0) return { grade: null, measure: null };
      const sum = input.significancesCenti.reduce((a, b) => a + Math.max(0, Math.min(SIGNIFICANCE_MAX * 100, b)), 0);
      return { grade: { num: BigInt(sum), den: BigInt(n * SIGNIFICANCE_MAX * 100) }, measure: sum / n / 100 };
    }
  }
}

/** Points of one criterion in hundredths: weight × min(1, grade), rounded half-up. */
export function criterionPoints(setting: CriterionSetting, input: ScoringInput, rules: ProgrammeScoringRules): CriterionResult {
  const { grade, measure } = gradeOf(setting, input, rules);
  if (!grade || grade.den === 0n || setting.weight === 0) return { key: setting.key, pointsCenti: 0, measure };
  const clamped = grade.num > grade.den ? grade.den : grade.num;
  const pointsCenti = Number(roundHalfUp(BigInt(setting.weight) * 100n * clamped, grade.den));
  return { key: setting.key, pointsCenti, measure };
}

/** Every criterion's points and the total, in hundredths of a point. */
export function scoreApplication(criteria: readonly CriterionSetting[], input: ScoringInput, rules: ProgrammeScoringRules): ScoreResult {
  const results = criteria.map((setting) => criterionPoints(setting, input, rules));
  return { criteria: results, totalCenti: results.reduce((sum, r) => sum + r.pointsCenti, 0) };
}

/** A member's rating as the ranking keeps it: hundredths, within 0…5. */
export function significanceCenti(significance: number): number {
  return Math.max(0, Math.min(SIGNIFICANCE_MAX * 100, Math.round(significance * 100)));
}

/** The most points the criteria can give, in hundredths. */
export function maxTotalCenti(criteria: readonly CriterionSetting[]): number {
  return criteria.reduce((sum, c) => sum + c.weight * 100, 0);
}

/** Hundredths of a point for people: 12.5 → "12.50" (or "12,50" in Russian). */
export function formatPoints(centi: number, lang: 'ru' | 'en' = 'ru'): string {
  const sign = centi < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(centi));
  return `${sign}${Math.floor(abs / 100)}${lang === 'ru' ? ',' : '.'}${String(abs % 100).padStart(2, '0')}`;
}
