import { describe, expect, it } from 'vitest';
import { defaultCommissionSettings } from '../../src/domain/criteria.ts';
import { neutralise, rankingCsv } from '../../src/http/exports/ranking.ts';
import { translator } from '../../src/i18n/index.ts';
import { type RankingRow, type RankingView } from '../../src/workflows/commission/reads.ts';

const row = (over: Partial<RankingRow>): RankingRow => ({
  rank: 1,
  applicationId: 7,
  title: 'Водопровод',
  municipality: 'Завьяловский район',
  settlement: 'с. Завьялово',
  firstSubmittedAt: '2027-05-01T06:00:00.000Z',
  criteria: defaultCommissionSettings.criteria.map((c) => ({ key: c.key, pointsCenti: 1050, measure: 5 })),
  totalCenti: 7350,
  scores: [{ memberId: 1, memberName: 'A', significanceCenti: 450, comment: null, at: '2027-07-01T06:00:00.000Z' }],
  requestedKopecks: 123_456_789,
  allocatedKopecks: 123_456_789,
  fundLeftKopecks: 1_000_000_00,
  outcome: 'award',
  why: null,
  ...over,
});

const view = (rows: RankingRow[]): RankingView => ({
  programme: { id: 1, title: 'П', year: 2027, region: 'Р', timeZone: 'Europe/Samara', fundKopecks: 1, capKopecks: 1, minLocalShareBp: 500 },
  settings: defaultCommissionSettings,
  alreadyAwardedKopecks: 0,
  availableKopecks: 1,
  rows,
  allocatedKopecks: 0,
  fundLeftKopecks: 0,
});

describe('the CSV export', () => {
  it('starts with a byte-order mark and writes numbers as a spreadsheet of the language reads them', () => {
    const ru = rankingCsv(translator('ru'), 'ru', view([row({})]));
    expect(ru.charCodeAt(0)).toBe(0xfeff);
    const cells = ru.slice(1).split('\r\n')[1]!.split(';');
    expect(cells.slice(0, 3)).toEqual(['1', '7', 'Водопровод']);
    expect(cells).toContain('1234567,89');
    expect(cells).toContain('73,50');
    expect(cells[5]).toBe('01.05.2027, 10:00'); // Samara time, UTC+4
    const en = rankingCsv(translator('en'), 'en', view([row({})]));
    expect(en.slice(1).split('\r\n')[1]!.split(',')).toContain('1234567.89');
  });

  it('neutralises text a spreadsheet would run as a formula, and quotes separators and quotes', () => {
    for (const evil of ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '|calc']) expect(neutralise(evil).startsWith("'")).toBe(true);
    expect(neutralise('Дом культуры')).toBe('Дом культуры');
    const csv = rankingCsv(translator('ru'), 'ru', view([row({ title: '=1+1;"2"', municipality: '@evil' })]));
    const line = csv.split('\r\n')[1]!;
    expect(line).toContain(`"'=1+1;""2"""`);
    expect(line).toContain(`;'@evil;`);
  });
});
