import { describe, expect, it } from 'vitest';
import {
  commissionSettingsSchema,
  criterionKeys,
  criterionPoints,
  defaultCommissionSettings,
  formatPoints,
  maxTotalCenti,
  scoreApplication,
  significanceCenti,
  type CriterionSetting,
  type ScoringInput,
} from '../../src/domain/criteria.ts';

/** A project of 1 000 000 ₽: 800 000 subsidy, 100 000 local budget (10 %), 60 000 residents (6 %), 40 000 business (4 %). */
const input: ScoringInput = {
  population: 1000,
  beneficiaries: 600,
  meetingAttendance: 50,
  subsidyKopecks: 80_000_000,
  localBudgetKopecks: 10_000_000,
  residentsKopecks: 6_000_000,
  businessKopecks: 4_000_000,
  nonMonetaryKopecks: 12_000_000,
  significancesCenti: [500, 400, 450],
};
const rules = { minLocalShareBp: 500 };
const setting = (key: CriterionSetting['key']) => defaultCommissionSettings.criteria.find((c) => c.key === key)!;

describe('criteria, checked by hand on one application', () => {
  it.each([
    // residents 6 % of the cost, full at 10 %: 20 × 0.6 = 12
    ['residents-share', 1200, 6],
    // business 4 %, full at 10 %: 10 × 0.4 = 4
    ['business-share', 400, 4],
    // local 10 % − minimum 5 % = 5 points of share, full at 10: 10 × 0.5 = 5
    ['local-share-above-minimum', 500, 5],
    // 600 of 1000 people, full at 100 %: 15 × 0.6 = 9
    ['beneficiaries-share', 900, 60],
    // 50 of 1000 at the meeting = 5 %, full at 10 %: 10 × 0.5 = 5
    ['attendance-share', 500, 5],
    // 120 000 in kind of 1 000 000 = 12 %, above the full 10 %: the whole 10
    ['non-monetary-share', 1000, 12],
    // (5 + 4 + 4.5) / 3 = 4.5 of 5: 25 × 0.9 = 22.5
    ['social-significance', 2250, 4.5],
  ] as const)('%s → %i hundredths', (key, centi, measure) => {
    const result = criterionPoints(setting(key), input, rules);
    expect(result.pointsCenti).toBe(centi);
    expect(result.measure).toBeCloseTo(measure, 6);
  });

  it('the total is the plain sum of the rounded criteria', () => {
    const result = scoreApplication(defaultCommissionSettings.criteria, input, rules);
    expect(result.totalCenti).toBe(1200 + 400 + 500 + 900 + 500 + 1000 + 2250);
    expect(maxTotalCenti(defaultCommissionSettings.criteria)).toBe(10_000);
  });

  it('rounds each criterion half-up to a hundredth, exactly', () => {
    // 1 resident-rouble in 3: 33.33…% ≥ 10 % → full; use a share of 1/3 of the full share instead: 20 × 1/3 = 6.666… → 6.67
    const third = { ...input, residentsKopecks: 1, subsidyKopecks: 29, localBudgetKopecks: 0, businessKopecks: 0 };
    expect(criterionPoints({ key: 'residents-share', weight: 20, fullAtBp: 10_000 }, third, rules).pointsCenti).toBe(67);
    // weight 1, a share of 1/8 of full: 0.125 → 0.13 (half up)
    const eighth = { ...input, residentsKopecks: 1, subsidyKopecks: 7, localBudgetKopecks: 0, businessKopecks: 0 };
    expect(criterionPoints({ key: 'residents-share', weight: 1, fullAtBp: 10_000 }, eighth, rules).pointsCenti).toBe(13);
  });

  it('gives 0 for a local share at or below the minimum, and nothing for what cannot be measured', () => {
    expect(criterionPoints(setting('local-share-above-minimum'), { ...input, localBudgetKopecks: 5_000_000, subsidyKopecks: 85_000_000 }, rules).pointsCenti).toBe(0);
    expect(criterionPoints(setting('beneficiaries-share'), { ...input, population: 0 }, rules)).toEqual({ key: 'beneficiaries-share', pointsCenti: 0, measure: null });
    expect(criterionPoints(setting('social-significance'), { ...input, significancesCenti: [] }, rules)).toEqual({ key: 'social-significance', pointsCenti: 0, measure: null });
  });

  it('a criterion of weight 0 gives nothing', () => {
    expect(criterionPoints({ key: 'residents-share', weight: 0, fullAtBp: 1000 }, input, rules).pointsCenti).toBe(0);
  });

  it('stays exact for amounts near the largest the form allows', () => {
    const huge = { ...input, subsidyKopecks: 9_000_000_000_000, residentsKopecks: 1_000_000_000_000, localBudgetKopecks: 0, businessKopecks: 0 };
    // residents 10 % of the cost: exactly the full grade
    expect(criterionPoints(setting('residents-share'), huge, rules).pointsCenti).toBe(2000);
  });

  it('keeps members’ ratings in hundredths within 0…5', () => {
    expect(significanceCenti(4.5)).toBe(450);
    expect(significanceCenti(3.333)).toBe(333);
    expect(significanceCenti(7)).toBe(500);
    expect(formatPoints(1234, 'ru')).toBe('12,34');
    expect(formatPoints(5, 'en')).toBe('0.05');
  });
});

describe('the settings schema', () => {
  it('takes the defaults', () => {
    expect(commissionSettingsSchema.parse(defaultCommissionSettings)).toEqual(defaultCommissionSettings);
    expect(defaultCommissionSettings.criteria.map((c) => c.key)).toEqual([...criterionKeys]);
  });

  it('refuses a missing or repeated criterion, a share on the members’ rating, all weights zero, a quorum of 0', () => {
    const base = structuredClone(defaultCommissionSettings);
    expect(commissionSettingsSchema.safeParse({ ...base, criteria: base.criteria.slice(1) }).success).toBe(false);
    expect(commissionSettingsSchema.safeParse({ ...base, criteria: [base.criteria[0], ...base.criteria.slice(0, 6)] }).success).toBe(false);
    expect(commissionSettingsSchema.safeParse({ ...base, criteria: base.criteria.map((c) => (c.key === 'social-significance' ? { ...c, fullAtBp: 1000 } : c)) }).success).toBe(false);
    expect(commissionSettingsSchema.safeParse({ ...base, criteria: base.criteria.map((c) => ({ ...c, weight: 0 })) }).success).toBe(false);
    expect(commissionSettingsSchema.safeParse({ ...base, quorum: 0 }).success).toBe(false);
    expect(commissionSettingsSchema.safeParse({ ...base, criteria: base.criteria.map((c) => ({ ...c, weight: 2.5 })) }).success).toBe(false);
  });
});
