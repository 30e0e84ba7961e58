import { describe, expect, it } from 'vitest';
import { readEventPayload, typedValues } from '../../src/http/forms.ts';
import { addMonths } from '../../src/http/charts/implementation.ts';

describe('the event forms after the award (issue 11)', () => {
  it('reads nested money, dates and selects into the payload', () => {
    const { payload, problems } = readEventPayload('sign-agreement', {
      agreementNo: 'С-1',
      signedOn: '2026-03-01',
      'amounts.subsidy': '1 000 000,00',
      'amounts.localBudget': '150 000',
      'amounts.residents': '50 000,50',
      'amounts.business': '0',
    });
    expect(problems).toEqual([]);
    expect(payload).toEqual({ agreementNo: 'С-1', signedOn: '2026-03-01', amounts: { subsidy: 100_000_000, localBudget: 15_000_000, residents: 5_000_050, business: 0 } });
  });

  it('names the field of a day that is no day, a value not offered and a record that is no number', () => {
    expect(readEventPayload('record-contribution', { source: 'lottery', amountKopecks: '10', receivedOn: '2026-02-30' }).problems).toEqual([
      { field: 'source', code: 'invalid_value' },
      { field: 'receivedOn', code: 'not-a-date' },
    ]);
    expect(readEventPayload('cancel-contribution', { seq: 'first', reason: 'ошибка' }).problems).toEqual([{ field: 'seq', code: 'invalid_value' }]);
    expect(readEventPayload('cancel-contribution', { seq: '31', reason: 'ошибка' }).payload).toEqual({ seq: 31, reason: 'ошибка' });
    expect(readEventPayload('report-spending', { 'actual.subsidy': '1' }).problems.map((p) => p.field)).toEqual(['actual.localBudget', 'actual.residents', 'actual.business']);
  });

  it('keeps what was typed for the refused form, and only the event’s own fields', () => {
    expect(typedValues('report-progress', { percent: '20', note: 'x', other: 'y' })).toEqual({ percent: '20', note: 'x' });
  });

  it('plans the works in calendar months, a short month clamped', () => {
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2025-09-22', 9)).toBe('2026-06-22');
  });
});
