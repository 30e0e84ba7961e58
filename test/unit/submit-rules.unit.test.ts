import { describe, expect, it } from 'vitest';
import {
  remarksSchema,
  submitProblems,
  type ApplicationForm,
  type ProgrammeRules,
} from '../../src/domain/application.ts';

/** The demo programme's rules: 1.5 M ₽ cap, at least 5 % from the local budget and 3 % from residents. */
const rules: ProgrammeRules = { capKopecks: 150_000_000, minLocalShareBp: 500, minResidentsShareBp: 300 };

/** A complete form well inside every rule: total 1 200 000 ₽, local 8.3 %, residents 4.2 %. */
function validForm(): ApplicationForm {
  return {
    title: 'Ремонт водопровода по ул. Садовой',
    projectType: 'water-supply',
    settlement: 'с. Завьялово',
    population: 1200,
    beneficiaries: 800,
    meetingAttendance: 150,
    problem: 'Старый водопровод часто прорывает, вода подаётся с перебоями.',
    description: 'Замена 900 м трубы, установка двух колонок.',
    durationMonths: 6,
    costs: { subsidy: 100_000_000, localBudget: 10_000_000, residents: 5_000_000, business: 5_000_000 },
    nonMonetary: { labour: 1_000_000, materials: 500_000 },
  };
}

/** The form with one field removed; a dotted path removes it from the nested object. */
function without(field: string): ApplicationForm {
  const form = validForm() as Record<string, unknown>;
  const [head, tail] = field.split('.') as [string, string | undefined];
  if (tail === undefined) delete form[head];
  else form[head] = Object.fromEntries(Object.entries(form[head] as object).filter(([key]) => key !== tail));
  return form as ApplicationForm;
}

function withCosts(costs: NonNullable<ApplicationForm['costs']>, extra: Partial<ApplicationForm> = {}): ApplicationForm {
  return { ...validForm(), ...extra, costs };
}

describe('submitProblems', () => {
  it('finds nothing wrong with a complete form inside the rules', () => {
    expect(submitProblems(validForm(), rules)).toEqual([]);
  });

  it('does not need the optional non-monetary contributions', () => {
    expect(submitProblems(without('nonMonetary'), rules)).toEqual([]);
  });

  describe('each required field, when missing, is the one problem', () => {
    const required = [
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
    ];
    for (const field of required) {
      it(`${field} missing → required`, () => {
        expect(submitProblems(without(field), rules)).toEqual([{ field, code: 'required' }]);
      });
    }

    it('an empty text counts as missing', () => {
      expect(submitProblems({ ...validForm(), title: '' }, rules)).toEqual([{ field: 'title', code: 'required' }]);
    });

    it('a form without costs at all misses every cost', () => {
      expect(submitProblems(without('costs'), rules)).toEqual([
        { field: 'costs.subsidy', code: 'required' },
        { field: 'costs.localBudget', code: 'required' },
        { field: 'costs.residents', code: 'required' },
        { field: 'costs.business', code: 'required' },
      ]);
    });

    it('an empty form misses every required field, in the order of the form', () => {
      expect(submitProblems({}, rules).map((p) => p.field)).toEqual(required);
      expect(submitProblems({}, rules).every((p) => p.code === 'required')).toBe(true);
    });
  });

  it('refuses a subsidy above the cap', () => {
    const form = withCosts({ subsidy: 200_000_000, localBudget: 20_000_000, residents: 10_000_000, business: 0 });
    expect(submitProblems(form, rules)).toEqual([{ field: 'costs.subsidy', code: 'above-cap', params: { cap: 150_000_000 } }]);
  });

  it('allows a subsidy exactly at the cap, and refuses one kopeck more', () => {
    const atCap = withCosts({ subsidy: 150_000_000, localBudget: 10_000_000, residents: 6_000_000, business: 0 });
    expect(submitProblems(atCap, rules)).toEqual([]);
    const above = withCosts({ subsidy: 150_000_001, localBudget: 10_000_000, residents: 6_000_000, business: 0 });
    expect(submitProblems(above, rules)).toEqual([{ field: 'costs.subsidy', code: 'above-cap', params: { cap: 150_000_000 } }]);
  });

  it('refuses a local-budget share below the minimum', () => {
    // 4 000 000 of 104 000 000 is 3.8 %, below 5 %.
    const form = withCosts({ subsidy: 95_000_000, localBudget: 4_000_000, residents: 5_000_000, business: 0 });
    expect(submitProblems(form, rules)).toEqual([{ field: 'costs.localBudget', code: 'share-below', params: { min: 500 } }]);
  });

  it('refuses a residents’ share below the minimum', () => {
    // 2 000 000 of 107 000 000 is 1.9 %, below 3 %.
    const form = withCosts({ subsidy: 95_000_000, localBudget: 10_000_000, residents: 2_000_000, business: 0 });
    expect(submitProblems(form, rules)).toEqual([{ field: 'costs.residents', code: 'share-below', params: { min: 300 } }]);
  });

  it('allows shares exactly at the minimum, and refuses one kopeck less', () => {
    // Total 100 000 000: 5 % local, 3 % residents exactly.
    const exact = withCosts({ subsidy: 92_000_000, localBudget: 5_000_000, residents: 3_000_000, business: 0 });
    expect(submitProblems(exact, rules)).toEqual([]);
    const localShort = withCosts({ subsidy: 92_000_001, localBudget: 4_999_999, residents: 3_000_000, business: 0 });
    expect(submitProblems(localShort, rules)).toEqual([{ field: 'costs.localBudget', code: 'share-below', params: { min: 500 } }]);
    const residentsShort = withCosts({ subsidy: 92_000_001, localBudget: 5_000_000, residents: 2_999_999, business: 0 });
    expect(submitProblems(residentsShort, rules)).toEqual([{ field: 'costs.residents', code: 'share-below', params: { min: 300 } }]);
  });

  it('compares shares exactly even where a double would round (totals near the schema maximum)', () => {
    // 2 988 301 659 847 × 10 000 < 29 912 929 527 998 × 999 exactly, but both products exceed 2^53
    // and round to the same double: the share is below the minimum by a hair.
    const hugeRules: ProgrammeRules = { capKopecks: 10_000_000_000_000, minLocalShareBp: 999, minResidentsShareBp: 0 };
    const form = withCosts({
      subsidy: 10_000_000_000_000,
      localBudget: 2_988_301_659_847,
      residents: 10_000_000_000_000,
      business: 6_924_627_868_151,
    });
    expect(submitProblems(form, hugeRules)).toEqual([{ field: 'costs.localBudget', code: 'share-below', params: { min: 999 } }]);
  });

  it('refuses more beneficiaries than the population, and allows exactly the population', () => {
    expect(submitProblems({ ...validForm(), beneficiaries: 1201 }, rules)).toEqual([
      { field: 'beneficiaries', code: 'above-population', params: { population: 1200 } },
    ]);
    expect(submitProblems({ ...validForm(), beneficiaries: 1200 }, rules)).toEqual([]);
  });

  it('refuses a meeting attended by more people than live there, and allows exactly the population', () => {
    expect(submitProblems({ ...validForm(), meetingAttendance: 1201 }, rules)).toEqual([
      { field: 'meetingAttendance', code: 'above-population', params: { population: 1200 } },
    ]);
    expect(submitProblems({ ...validForm(), meetingAttendance: 1200 }, rules)).toEqual([]);
  });

  it('does not compare with a population that is missing', () => {
    expect(submitProblems({ ...without('population'), beneficiaries: 10_000 }, rules)).toEqual([
      { field: 'population', code: 'required' },
    ]);
  });

  for (const key of ['subsidy', 'localBudget', 'residents', 'business'] as const) {
    it(`refuses a negative ${key}`, () => {
      const form = validForm();
      const costs = { ...form.costs!, [key]: -1 };
      expect(submitProblems({ ...form, costs }, rules)).toEqual([{ field: `costs.${key}`, code: 'negative' }]);
    });
  }

  it('refuses a total of zero', () => {
    const form = withCosts({ subsidy: 0, localBudget: 0, residents: 0, business: 0 });
    expect(submitProblems(form, rules)).toEqual([{ field: 'costs.subsidy', code: 'total-zero' }]);
  });

  it('reports several independent problems at once, one per field', () => {
    const form = withCosts(
      { subsidy: 200_000_000, localBudget: 1_000_000, residents: 1_000_000, business: 0 },
      { beneficiaries: 5000, meetingAttendance: 5000 },
    );
    expect(submitProblems(form, rules).map((p) => `${p.field}:${p.code}`)).toEqual([
      'costs.subsidy:above-cap',
      'costs.localBudget:share-below',
      'costs.residents:share-below',
      'beneficiaries:above-population',
      'meetingAttendance:above-population',
    ]);
  });
});

describe('remarksSchema', () => {
  it('turns one text into one general remark, trimmed', () => {
    expect(remarksSchema.parse('  Приложите смету.  ')).toEqual([{ field: 'general', text: 'Приложите смету.' }]);
  });

  it('takes a list of remarks tied to fields, a missing field meaning general', () => {
    expect(
      remarksSchema.parse([
        { field: 'costs.residents', text: 'Доля жителей не подтверждена.' },
        { text: 'Нет протокола собрания.' },
      ]),
    ).toEqual([
      { field: 'costs.residents', text: 'Доля жителей не подтверждена.' },
      { field: 'general', text: 'Нет протокола собрания.' },
    ]);
  });

  it('refuses an empty text, a blank text and an empty list', () => {
    expect(remarksSchema.safeParse('').success).toBe(false);
    expect(remarksSchema.safeParse('   ').success).toBe(false);
    expect(remarksSchema.safeParse([]).success).toBe(false);
  });

  it('refuses a remark on an unknown field, with an empty text, or with extra keys', () => {
    expect(remarksSchema.safeParse([{ field: 'colour', text: 'x' }]).success).toBe(false);
    expect(remarksSchema.safeParse([{ field: 'title', text: ' ' }]).success).toBe(false);
    expect(remarksSchema.safeParse([{ field: 'title', text: 'x', severity: 'high' }]).success).toBe(false);
  });

  it('refuses a text longer than 2000 characters and more than 100 remarks', () => {
    expect(remarksSchema.safeParse('я'.repeat(2001)).success).toBe(false);
    expect(remarksSchema.safeParse(Array.from({ length: 101 }, () => ({ text: 'x' }))).success).toBe(false);
    expect(remarksSchema.safeParse(Array.from({ length: 100 }, () => ({ text: 'x' }))).success).toBe(true);
  });
});
